// Package demo plays the whole chatcards story on one machine: a chatbot
// creating cards through the HTTP API, conversations on the reference chat
// platform, the nightly sync, and the analysts' report export.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/pages"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/progress"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Options of a demo run.
type Options struct {
	Store    cardstore.Store // where cards live (the embedded store, or DynamoDB)
	Out      string          // report files go under this folder
	Sessions int             // widget sessions to play (default 200)
	Seed     int64           // same seed, same conversations
	Day      time.Time       // the day the chats happen (UTC midnight)
	Folder   string          // default "helpdesk"
	Progress io.Writer       // one line per step
	// Meter, when set, gets a progress line every few seconds inside the
	// long steps (creating cards, each sync, the export), so a run of
	// 100,000 sessions is never silent for minutes.
	Meter io.Writer
	// MeterOptions are the meter's clock and ticks (tests); zero: real time.
	MeterOptions progress.Options
}

// Summary is what the demo found.
type Summary struct {
	Sessions, Closed, Active, Abandoned, NoOperatorResponse int
	AvgWaitBeforeFirstReplyMs                               int64 // over sessions that had one
	WithFirstReply                                          int
	BusiestAgent                                            string
	BusiestAgentSessions                                    int
	Files                                                   []string // report files, relative to Out
	// SummaryPage is the day's summary.html beside the reports, when the
	// export wrote one; DialogPage is one chat's dialog view saved as HTML.
	// Both are paths under Out, for the user to open in a browser.
	SummaryPage, DialogPage string
	FirstSync, SecondSync   syncer.Summary
}

const token = "demo-token-not-secret"

// Run plays the story.
func Run(ctx context.Context, opt Options) (*Summary, error) {
	if opt.Sessions <= 0 {
		opt.Sessions = 200
	}
	if opt.Folder == "" {
		opt.Folder = "helpdesk"
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	if opt.Day.IsZero() {
		opt.Day = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	}
	say := func(format string, args ...any) { fmt.Fprintf(opt.Progress, format+"\n", args...) }
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))

	// The chat platform, with a day of generated conversations.
	ts := platform.Generate(platform.GenerateOptions{N: opt.Sessions, Seed: opt.Seed, Folder: opt.Folder,
		Start: opt.Day.Add(8 * time.Hour), Spacing: 10 * time.Hour / time.Duration(opt.Sessions)})
	plat, err := platform.NewServer(platform.ServerOptions{Token: token, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	platURL, stopPlat, err := serve(plat)
	if err != nil {
		return nil, err
	}
	defer stopPlat()

	// The chat-session API, on the same store the sync and export use.
	tokens, err := api.ParseTokens(fmt.Appendf(nil, `{%q: [%q]}`, api.HashToken(token), opt.Folder))
	if err != nil {
		return nil, err
	}
	apiURL, stopAPI, err := serve(api.New(api.Config{Store: opt.Store, Tokens: tokens, Logger: quiet}))
	if err != nil {
		return nil, err
	}
	defer stopAPI()
	say("▸ chat platform on %s, chat-session API on %s, %d widget sessions on %s", platURL, apiURL, len(ts), opt.Day.Format("2006-01-02"))

	meter := func(label, unit string, total int) *progress.Reporter {
		return progress.Start(opt.Meter, label, unit, int64(total), opt.MeterOptions)
	}

	// 1. The chatbot opens a card for every widget session.
	rep := meter("chatbot: createChatSession", "sessions", len(ts))
	created, existing, err := createCards(ctx, apiURL, opt.Folder, ts, rep)
	rep.Stop()
	if err != nil {
		return nil, err
	}
	say("▸ chatbot: createChatSession for %d sessions (%d created, %d already there)", len(ts), created, existing)

	// 2. The conversations happen on the platform; agents raise tickets.
	tickets := 0
	for i, t := range ts {
		if err := plat.Put(t); err != nil {
			return nil, err
		}
		if platform.KindOf(t) == platform.KindLive && i%4 == 0 {
			if err := attachTicket(ctx, apiURL, opt.Folder, t.SessionID, fmt.Sprintf("INC-%05d", 20000+i)); err != nil {
				return nil, err
			}
			tickets++
		}
	}
	say("▸ conversations: %d transcripts on the platform; agents attached %d tickets through the API", len(ts), tickets)

	// 3. The nightly sync, while some chats are still running.
	src, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: platURL, Token: token, RPS: 500})
	if err != nil {
		return nil, err
	}
	sy := syncer.New(opt.Store, src, syncer.Options{Logger: quiet})
	s := &Summary{Sessions: len(ts)}
	rep = meter("sync #1", "sessions", len(ts))
	s.FirstSync, err = sy.WithOnDone(func(syncer.Outcome) { rep.Add(1) }).Run(ctx, []string{opt.Folder})
	rep.Stop()
	if err != nil {
		return nil, err
	}
	say("▸ sync #1: %d cards seen, %d closed, %d still running (partial figures), %d failed, in %s",
		s.FirstSync.Seen, s.FirstSync.Closed, s.FirstSync.Updated, s.FirstSync.Failed, s.FirstSync.Duration.Round(time.Millisecond))

	// 4. The running chats end; the next sync closes their cards.
	for _, t := range ts {
		if ev := platform.CloseEvents(t); len(ev) > 0 {
			if err := plat.Advance(t.SessionID, ev...); err != nil {
				return nil, err
			}
		}
	}
	// The second sync sees only the cards the first one left active.
	rep = meter("sync #2", "sessions", s.FirstSync.Seen-s.FirstSync.Closed-s.FirstSync.Stale)
	s.SecondSync, err = sy.WithOnDone(func(syncer.Outcome) { rep.Add(1) }).Run(ctx, []string{opt.Folder})
	rep.Stop()
	if err != nil {
		return nil, err
	}
	say("▸ sync #2: %d cards seen, %d closed, %d unchanged, in %s",
		s.SecondSync.Seen, s.SecondSync.Closed, s.SecondSync.Unchanged, s.SecondSync.Duration.Round(time.Millisecond))

	// 5. The analysts' reports for the day.
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	sel := reports.Selection{Folder: opt.Folder, From: opt.Day.Format("2006-01-02"), WithTimes: true}
	rep = meter("export", "cards read", len(ts))
	// The summary page is opened from disk, where the API path of a session
	// leads nowhere: its longest waits link to dialog pages saved beside the
	// reports (out/dialog-<id>.html, three folders up from the page).
	var linkMu sync.Mutex
	linked := map[string]bool{}
	sumOpt := reports.SummaryOptions{
		SessionLink: func(_, id string) string {
			linkMu.Lock()
			linked[id] = true
			linkMu.Unlock()
			return "../../../" + url.PathEscape(dialogFile(id))
		},
		LinkNote: "Each session opens its dialog view, saved by the demo beside the reports.",
	}
	manifests, err := reports.Export(ctx, countingStore{opt.Store, rep}, &reports.DirSink{Root: opt.Out}, sel, reports.Options{Location: time.UTC, Logger: quiet, Summary: sumOpt})
	rep.Stop()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, m := range manifests {
		for _, f := range m.Files {
			s.Files = append(s.Files, f.Key)
		}
		s.Files = append(s.Files, reports.ManifestKey(m.Folder, m.Date))
	}
	say("▸ export: %d report files under %s", len(s.Files), opt.Out)

	ids := make([]string, 0, len(linked))
	for id := range linked {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c, err := opt.Store.Get(ctx, opt.Folder, id)
		if err != nil {
			return nil, err
		}
		if _, err := saveDialog(opt.Out, c); err != nil {
			return nil, err
		}
	}

	show, err := s.tally(ctx, opt.Store, opt.Folder, opt.Day)
	if err != nil {
		return nil, err
	}
	for _, m := range manifests {
		p := filepath.Join(opt.Out, filepath.FromSlash(path.Dir(reports.ManifestKey(m.Folder, m.Date))), "summary.html")
		if _, err := os.Stat(p); err == nil {
			s.SummaryPage = p
		}
	}
	if show != nil {
		// A listing may leave the chat log out; the page needs the card whole.
		if show, err = opt.Store.Get(ctx, opt.Folder, show.SessionID); err != nil {
			return nil, err
		}
		if s.DialogPage, err = saveDialog(opt.Out, show); err != nil {
			return nil, err
		}
		say("▸ dialog view of %s saved as %s", show.SessionID, s.DialogPage)
	}
	return s, nil
}

// saveDialog writes c's dialog page (as the API shows it to a browser) to
// out/dialog-<id>.html. A ':' of the id becomes '_' so the name is valid on
// every file system.
func saveDialog(out string, c *card.Card) (string, error) {
	var b bytes.Buffer
	if err := pages.Dialog(&b, c, pages.DialogOptions{Location: time.UTC}); err != nil {
		return "", fmt.Errorf("dialog page of %s: %w", c.SessionID, err)
	}
	name := filepath.Join(out, dialogFile(c.SessionID))
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		return "", err
	}
	return name, nil
}

// dialogFile is the file name of a session's saved dialog page.
func dialogFile(sessionID string) string {
	return "dialog-" + strings.ReplaceAll(sessionID, ":", "_") + ".html"
}

// showcase reports whether a makes a better first dialog page to open than
// b: a closed live chat with a rating and many lines shows the most.
func showcase(a, b *card.Card) bool {
	if b == nil {
		return true
	}
	score := func(c *card.Card) int {
		n := min(c.MessageCount, 40)
		if !c.Active {
			n += 100
		}
		if len(c.Agents) > 0 {
			n += 100
		}
		if c.Rating != nil {
			n += 50
		}
		if len(c.RelatedTickets) > 0 {
			n += 20
		}
		return n
	}
	if sa, sb := score(a), score(b); sa != sb {
		return sa > sb
	}
	return a.SessionID < b.SessionID
}

// serve runs h on a loopback port until stop is called.
func serve(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// countingStore counts the cards the export lists, for the meter.
type countingStore struct {
	cardstore.Store
	rep *progress.Reporter
}

func (s countingStore) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	p, err := s.Store.ListByStart(ctx, folder, from, to, opt)
	s.rep.Add(int64(len(p.Cards)))
	return p, err
}

// createCards plays the chatbot: one createChatSession per session, eight
// at once; rep counts them.
func createCards(ctx context.Context, apiURL, folder string, ts []*transcript.Transcript, rep *progress.Reporter) (created, existing int, err error) {
	var (
		c, e atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, len(ts))
		jobs = make(chan *transcript.Transcript)
	)
	for range 8 {
		wg.Go(func() {
			for t := range jobs {
				status, err := post(ctx, apiURL+"/v1/chat-sessions?folder="+folder, createBody(t))
				rep.Add(1)
				switch {
				case err != nil:
					errs <- err
				case status == http.StatusCreated:
					c.Add(1)
				case status == http.StatusOK:
					e.Add(1)
				default:
					errs <- fmt.Errorf("createChatSession %s: HTTP %d", t.SessionID, status)
				}
			}
		})
	}
	for _, t := range ts {
		jobs <- t
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	return int(c.Load()), int(e.Load()), nil
}

func createBody(t *transcript.Transcript) map[string]any {
	body := map[string]any{
		"sessionId": t.SessionID,
		"startedAt": transcript.FormatMillis(t.Events[0].At),
		"async":     t.Async,
		"metadata":  map[string]string{"botFlow": "it-support"},
	}
	if t.Channel != "" {
		body["channel"] = t.Channel
	}
	if t.Language != "" {
		body["language"] = t.Language
	}
	for _, p := range t.Participants {
		if p.Role == transcript.RoleCustomer {
			cust := map[string]string{"person": p.PersonRef()}
			if p.Name != "" {
				cust["name"] = p.Name
			}
			body["customer"] = cust
			break
		}
	}
	return body
}

func attachTicket(ctx context.Context, apiURL, folder, id, ticket string) error {
	status, err := post(ctx, apiURL+"/v1/chat-sessions/"+id+"/tickets?folder="+folder, map[string]string{"ticket": ticket})
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("attach ticket to %s: HTTP %d", id, status)
	}
	return err
}

func post(ctx context.Context, url string, body any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// tally reads the cards back for the closing summary, and picks the card
// whose dialog page the demo saves.
func (s *Summary) tally(ctx context.Context, store cardstore.Store, folder string, day time.Time) (*card.Card, error) {
	var show *card.Card
	var waitTotal int64
	agentSessions := map[string]int{}
	names := map[string]string{}
	cursor := ""
	for {
		page, err := store.ListByStart(ctx, folder, day, day.AddDate(0, 0, 1), cardstore.ListOptions{Cursor: cursor, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, c := range page.Cards {
			s.count(c, &waitTotal, agentSessions, names)
			if showcase(c, show) {
				show = c
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if s.WithFirstReply > 0 {
		s.AvgWaitBeforeFirstReplyMs = (2*waitTotal + int64(s.WithFirstReply)) / (2 * int64(s.WithFirstReply))
	}
	persons := make([]string, 0, len(agentSessions))
	for p := range agentSessions {
		persons = append(persons, p)
	}
	sort.Slice(persons, func(i, j int) bool {
		a, b := persons[i], persons[j]
		if agentSessions[a] != agentSessions[b] {
			return agentSessions[a] > agentSessions[b]
		}
		return a < b
	})
	if len(persons) > 0 {
		s.BusiestAgent = persons[0]
		if n := names[persons[0]]; n != "" {
			s.BusiestAgent = n + " (" + persons[0] + ")"
		}
		s.BusiestAgentSessions = agentSessions[persons[0]]
	}
	return show, nil
}

func (s *Summary) count(c *card.Card, waitTotal *int64, agentSessions map[string]int, names map[string]string) {
	if c.Active {
		s.Active++
	} else {
		s.Closed++
	}
	if c.Abandoned {
		s.Abandoned++
	}
	if c.NoOperatorResponse {
		s.NoOperatorResponse++
	}
	if c.WaitBeforeFirstReplyMs != nil {
		*waitTotal += *c.WaitBeforeFirstReplyMs
		s.WithFirstReply++
	}
	for _, a := range c.Agents {
		agentSessions[a.Person]++
		if a.Name != "" {
			names[a.Person] = a.Name
		}
	}
}

// Print writes the closing summary.
func (s *Summary) Print(w io.Writer, out string) {
	fmt.Fprintf(w, "\nchatcards demo — summary\n")
	fmt.Fprintf(w, "  sessions                     %d\n", s.Sessions)
	fmt.Fprintf(w, "  closed                       %d (still active: %d)\n", s.Closed, s.Active)
	fmt.Fprintf(w, "  abandoned                    %d (no operator response: %d)\n", s.Abandoned, s.NoOperatorResponse)
	if s.WithFirstReply > 0 {
		fmt.Fprintf(w, "  avg wait before first reply  %s (over %d live chats)\n", (time.Duration(s.AvgWaitBeforeFirstReplyMs) * time.Millisecond).Round(100*time.Millisecond), s.WithFirstReply)
	}
	if s.BusiestAgent != "" {
		fmt.Fprintf(w, "  busiest agent                %s, %d sessions\n", s.BusiestAgent, s.BusiestAgentSessions)
	}
	fmt.Fprintf(w, "\nreports, ready to open (CSV/XLSX in a spreadsheet, Parquet in DuckDB or Athena):\n")
	// One line per folder: the reports in it and their formats.
	type dirFiles struct {
		dir   string
		names []string
		bytes int64
	}
	var dirs []*dirFiles
	byDir := map[string]*dirFiles{}
	for _, f := range s.Files {
		dir, name := filepath.Split(filepath.Join(out, filepath.FromSlash(f)))
		d := byDir[dir]
		if d == nil {
			d = &dirFiles{dir: dir}
			byDir[dir] = d
			dirs = append(dirs, d)
		}
		d.names = append(d.names, name)
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			d.bytes += fi.Size()
		} else if errors.Is(err, fs.ErrNotExist) {
			d.names[len(d.names)-1] += " (missing)"
		}
	}
	for _, d := range dirs {
		fmt.Fprintf(w, "  %s  (%d files, %.0f KB)\n", d.dir, len(d.names), float64(d.bytes)/1024)
		fmt.Fprintf(w, "    %s\n", strings.Join(groupFormats(d.names), "  "))
	}
	if s.SummaryPage == "" && s.DialogPage == "" {
		return
	}
	fmt.Fprintf(w, "\nopen in a browser:\n")
	if s.SummaryPage != "" {
		fmt.Fprintf(w, "  the day's summary   %s\n", s.SummaryPage)
	}
	if s.DialogPage != "" {
		fmt.Fprintf(w, "  one chat's dialog   %s\n", s.DialogPage)
	}
}

// groupFormats turns a.csv a.xlsx b.csv into "a.{csv,xlsx}" "b.csv".
func groupFormats(names []string) []string {
	var order []string
	exts := map[string][]string{}
	for _, n := range names {
		base, ext, ok := strings.Cut(n, ".")
		if !ok {
			order, exts[n] = append(order, n), nil
			continue
		}
		if _, seen := exts[base]; !seen {
			order = append(order, base)
		}
		exts[base] = append(exts[base], ext)
	}
	out := make([]string, 0, len(order))
	for _, b := range order {
		switch e := exts[b]; len(e) {
		case 0:
			out = append(out, b)
		case 1:
			out = append(out, b+"."+e[0])
		default:
			out = append(out, b+".{"+strings.Join(e, ",")+"}")
		}
	}
	return out
}
