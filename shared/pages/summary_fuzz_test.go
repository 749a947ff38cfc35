package pages_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/pages"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/summary"
)

// FuzzSummaryPageEscapes puts arbitrary strings wherever data reaches the
// page (folder, session id, agent person and name, end reasons, the link)
// and holds that no markup an attacker could choose survives: no script
// element, no event handler attribute, no javascript: link.
func FuzzSummaryPageEscapes(f *testing.F) {
	for _, s := range []string{"<script>alert(1)</script>", `" onmouseover="x`, "javascript:alert(1)", "</style><script>", "<svg onload=x>", "\x00\xff", "a&amp;b"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, folder, id, name string) {
		b, err := summary.NewDay(folder, "2026-11-20", time.UTC, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c := card.New(folder, id, "2026-11-20T10:00:00.000Z")
		c.Active, c.Status = false, "closed"
		c.SupportPerson, c.ServiceLevel = name, "met"
		c.Agents = []stats.Agent{{Participant: "a", Person: name, Name: name}}
		w := int64(1000)
		c.WaitBeforeFirstReplyMs = &w
		c.Statistics = stats.Statistics{"csg_SessionEndedBy": stats.Str(name), "csg_SessionEndedReason": stats.Str(id)}
		if err := b.Add(c); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := pages.Summary(&buf, b.Result(), pages.SummaryOptions{Link: func(s string) string { return name + s }}); err != nil {
			t.Fatal(err)
		}
		// Tokenise as a browser would: no data string may create a script,
		// an event handler, a javascript: link or another style element.
		z := html.NewTokenizer(bytes.NewReader(buf.Bytes()))
		styles := 0
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "base", "form":
				t.Fatalf("page has a <%s> element", tok.Data)
			case "style":
				styles++
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Fatalf("<%s> has an event handler %s", tok.Data, a.Key)
				}
				if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Fatalf("<%s %s=%q>", tok.Data, a.Key, a.Val)
				}
			}
		}
		if styles != 1 {
			t.Fatalf("%d style elements", styles)
		}
	})
}
