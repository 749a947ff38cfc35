package reports

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/chatcards/chatcards/shared/card"
)

// DefaultPhrasesTop is how many phrases popular-phrases keeps when PHRASES_TOP is unset.
const DefaultPhrasesTop = 1000

var folder = cases.Fold()

// NormalizePhrase is the key under which popular-phrases counts a client
// line: NFKC, case-folded, inner white space collapsed to one space, and
// punctuation (and white space) trimmed from both ends. "" means nothing is
// left to count. It is idempotent.
func NormalizePhrase(s string) string {
	s = norm.NFKC.String(s)
	s = folder.String(s)
	// Folding can produce text that is no longer NFKC; normalising again
	// makes the function idempotent.
	s = norm.NFKC.String(s)
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

type phraseCount struct {
	count, sessions int64
	// last is the card that last counted a session for this phrase, so a
	// phrase repeated in one session adds one session, without a set.
	last int64
}

type phrasesReport struct {
	top     int
	cardNo  int64
	phrases map[string]*phraseCount
}

func newPhrasesReport(top int) *phrasesReport {
	if top <= 0 {
		top = DefaultPhrasesTop
	}
	return &phrasesReport{top: top, phrases: map[string]*phraseCount{}}
}

func (*phrasesReport) columns() []Column {
	return []Column{{Name: "phrase"}, {Name: "count", Kind: KindInt}, {Name: "sessions", Kind: KindInt}}
}

func (r *phrasesReport) card(c *card.Card, _ emitFunc) error {
	r.cardNo++
	for i := range c.ChatLog {
		l := &c.ChatLog[i]
		if l.Role != "customer" || l.File != nil || l.Text == "" {
			continue
		}
		p := NormalizePhrase(l.Text)
		if p == "" {
			continue
		}
		pc := r.phrases[p]
		if pc == nil {
			pc = &phraseCount{}
			r.phrases[p] = pc
		}
		pc.count++
		if pc.last != r.cardNo {
			pc.last = r.cardNo
			pc.sessions++
		}
	}
	return nil
}

func (r *phrasesReport) finish(emit emitFunc) error {
	keys := make([]string, 0, len(r.phrases))
	for k := range r.phrases {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.phrases[b].count, r.phrases[a].count), strings.Compare(a, b))
	})
	if len(keys) > r.top {
		keys = keys[:r.top]
	}
	for _, k := range keys {
		pc := r.phrases[k]
		if err := emit(Row{str(k), num(pc.count), num(pc.sessions)}); err != nil {
			return err
		}
	}
	return nil
}
