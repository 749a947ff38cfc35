// Package pages renders chatcards' self-contained HTML pages: no script and
// no network request of any kind (inline CSS), readable on a phone and on paper.
package pages

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/stats"
)

//go:embed dialog*.tmpl
var dialogFS embed.FS

// dialogStyle is the page's one inline <style> element, verbatim; the
// Content-Security-Policy allows exactly it by its hash.
var dialogStyle = dialogMust(dialogFS.ReadFile("dialog_style.tmpl"))

var dialogTemplates = template.Must(template.New("dialog").Funcs(template.FuncMap{
	"dialogSize": dialogSize,
}).ParseFS(dialogFS, "dialog.tmpl", "dialog_error.tmpl"))

func dialogMust(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// DialogCSP is the Content-Security-Policy of the dialog pages: nothing may
// load (default-src 'none'), no script, no form, no frame; the one inline
// style is allowed by its SHA-256, and images only as data: URLs (the
// favicon is one, so the browser does not ask the server for /favicon.ico).
var DialogCSP = "default-src 'none'; style-src '" + dialogStyleHash() + "'; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func dialogStyleHash() string {
	sum := sha256.Sum256(dialogStyle)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// DialogHeaders sets the headers every dialog page (and its error pages)
// goes out with. Shared pages, opened through a share link, must never be
// stored by a cache on the way (no-store); the token-opened page is private
// to the caller as well. Referrer-Policy no-referrer keeps the share token
// in the URL from leaking to any site a reader goes to next.
func DialogHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", DialogCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Frame-Options", "DENY")
}

// DialogOptions says how to show a card.
type DialogOptions struct {
	// Location is the folder's time zone (folders.Settings.Location); nil
	// is UTC.
	Location *time.Location
	// SharedUntil is set when the page was opened through a share link: the
	// page says it is a read-only shared view and until when the link works.
	SharedUntil time.Time
}

// Dialog writes the dialog view of c: the header figures, the chat log
// with roles, attachments, tickets, rating and what the chatbot told us.
// Every text from the card is escaped by html/template.
func Dialog(w io.Writer, c *card.Card, opt DialogOptions) error {
	return dialogTemplates.ExecuteTemplate(w, "dialog.tmpl", dialogViewOf(c, opt))
}

// DialogProblem is an error page in the dialog's style.
type DialogProblem struct {
	Status  int    // HTTP status, shown small
	Title   string // one line: "This link has expired"
	Message string // what the reader can do about it
}

// DialogError writes p as a page.
func DialogError(w io.Writer, p DialogProblem) error {
	return dialogTemplates.ExecuteTemplate(w, "dialog_error.tmpl", struct {
		DialogProblem
		StatusText string
		Style      template.CSS
	}{p, http.StatusText(p.Status), template.CSS(dialogStyle)})
}

// dialogView is what the template reads: every value already formatted, so
// the template only lays out and escapes.
type dialogView struct {
	Style       template.CSS
	Title       string
	SessionID   string
	Folder      string
	Status      string
	StatusClass string
	ClosedNote  string
	Zone        string
	Figures     []dialogFigure
	Agents      []dialogAgent
	Lines       []dialogLine
	Files       []dialogLine
	Tickets     []string
	Rating      *stats.Rating
	Stars       string
	Metadata    []dialogPair
	Pages       []string
	Markers     []string
	Shared      bool
	SharedUntil string
	Internal    int
}

type dialogFigure struct{ Label, Value, Note string }

type dialogPair struct{ Key, Value string }

type dialogAgent struct {
	Name, Person string
	Messages     int64
	Reply        string
}

type dialogLine struct {
	Day      string // set on the first line of each local day
	Time     string
	Stamp    string // full local time, for the title attribute
	Who      string
	Role     string // customer, agent, bot, system, internal
	RoleText string
	Text     string
	File     *stats.File
}

func dialogViewOf(c *card.Card, opt DialogOptions) dialogView {
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	v := dialogView{
		Style:     template.CSS(dialogStyle),
		SessionID: c.SessionID,
		Folder:    c.Folder,
		Status:    c.Status,
		Zone:      loc.String(),
		Tickets:   c.RelatedTickets,
		Rating:    c.Rating,
		Pages:     c.Pages,
		Markers:   c.Markers,
	}
	v.Title = "Chat " + c.SessionID
	v.StatusClass = "st-" + dialogClass(c.Status)
	if c.ClosedReason != "" {
		v.ClosedNote = "closed by chatcards: " + c.ClosedReason
	}
	if c.Rating != nil && c.Rating.Score > 0 && c.Rating.Score <= 10 {
		v.Stars = strings.Repeat("★", min(c.Rating.Score, 5)) + strings.Repeat("☆", max(5-c.Rating.Score, 0))
	}
	if !opt.SharedUntil.IsZero() {
		v.Shared = true
		v.SharedUntil = dialogTime(opt.SharedUntil, loc, true)
	}

	start := dialogParse(c.StartTime)
	if start.IsZero() {
		start = dialogParse(c.StartedAt)
	}
	end := dialogParse(c.EndTime)
	fig := func(label, value, note string) { v.Figures = append(v.Figures, dialogFigure{label, value, note}) }
	customer := c.CustomerName
	if customer == "" {
		customer = c.Customer
	} else if c.Customer != "" {
		customer += " (" + c.Customer + ")"
	}
	fig("Customer", dialogOr(customer, "—"), strings.Trim(c.Channel+" · "+c.Language, " ·"))
	fig("Started", dialogTime(start, loc, true), "")
	if c.Active {
		fig("Ended", "still active", "")
	} else {
		fig("Ended", dialogTime(end, loc, true), dialogSpan(start, end))
	}
	// In a folder with business hours the service level is decided on the
	// business-time figure, so a long wait can be "met": the tile shows it.
	bizWait := ""
	if bh := c.BusinessHours; bh != nil && bh.WaitBeforeFirstReplyMs != nil {
		bizWait = dialogDuration(*bh.WaitBeforeFirstReplyMs) + " in business hours"
	}
	switch w := c.WaitBeforeFirstReplyMs; {
	case w != nil && *w == 0:
		fig("Wait before first reply", dialogDuration(0), "the agent wrote first")
	case w != nil:
		fig("Wait before first reply", dialogDuration(*w), bizWait)
	case c.ServiceLevel != "" || len(c.Agents) > 0:
		fig("Wait before first reply", "no reply", "no agent message in the first live chat")
	default:
		fig("Wait before first reply", "—", "no live chat")
	}
	if n, ok := c.Statistics["cse_SessionHandleTotalTime"]; ok && !n.IsStr {
		note := ""
		if cnt, ok := c.Statistics["cse_SessionHandleTotalCount"]; ok && !cnt.IsStr && cnt.Num > 1 {
			note = fmt.Sprintf("%d live chats", cnt.Num)
		}
		fig("Handle time", dialogDuration(n.Num*1000), note)
	} else {
		fig("Handle time", "—", "no live chat")
	}
	var agentNames []string
	for _, a := range c.Agents {
		agentNames = append(agentNames, dialogOr(a.Name, a.Person))
	}
	switch {
	case len(agentNames) > 0:
		fig("Agents", strings.Join(agentNames, ", "), "")
	case c.NoOperatorResponse:
		fig("Agents", "none", "an agent was expected")
	default:
		fig("Agents", "none", "")
	}
	switch c.ServiceLevel {
	case stats.ServiceLevelMet:
		if bizWait != "" {
			fig("Service level", "met", "first reply within target, in business hours")
		} else {
			fig("Service level", "met", "first reply within target")
		}
	case stats.ServiceLevelMissed:
		fig("Service level", "missed", "first reply over target or none")
	default:
		fig("Service level", "—", "not applicable or not decided")
	}
	if c.BotContained {
		fig("Bot containment", "contained", "the bot handled it alone")
	} else {
		fig("Bot containment", "not contained", "")
	}
	by, reason := c.Statistics["csg_SessionEndedBy"], c.Statistics["csg_SessionEndedReason"]
	if by.Str != "" || reason.Str != "" {
		fig("Ended by", dialogOr(strings.ToLower(by.Str), "—"), "reason: "+dialogOr(strings.ToLower(reason.Str), "—"))
	} else {
		fig("Ended by", "—", "")
	}
	if c.Rating != nil {
		fig("Rating", fmt.Sprintf("%d of 5", c.Rating.Score), "see the comment below")
		if c.Rating.Comment == "" {
			v.Figures[len(v.Figures)-1].Note = "no comment"
		}
	} else {
		fig("Rating", "—", "not rated")
	}
	if c.Abandoned {
		fig("Abandoned", "yes", "handed off, no agent took part")
	} else if c.NoOperatorResponse {
		fig("Agent response", "none", "an agent was expected but never wrote")
	}

	visible := map[string]bool{}
	for _, a := range c.Agents {
		visible[a.Participant] = true
		name := dialogOr(a.Name, a.Person)
		reply := "no replies"
		if a.ReplyCount > 0 && a.ReplyAvgMs != nil {
			reply = fmt.Sprintf("%d replies, avg %s, max %s", a.ReplyCount, dialogDuration(*a.ReplyAvgMs), dialogDuration(a.ReplyMaxMs))
		}
		v.Agents = append(v.Agents, dialogAgent{Name: name, Person: a.Person, Messages: a.Messages, Reply: reply})
	}

	lastDay := ""
	for _, e := range c.ChatLog {
		at := dialogParse(e.At)
		l := dialogLine{Who: dialogOr(e.Name, e.Participant), Text: e.Text, File: e.File, Stamp: dialogTime(at, loc, true)}
		if !at.IsZero() {
			l.Time = at.In(loc).Format("15:04:05")
			if d := at.In(loc).Format("Monday 2 January 2006"); d != lastDay {
				l.Day, lastDay = d, d
			}
		}
		switch e.Role {
		case "customer":
			l.Role, l.RoleText = "customer", "customer"
		case "bot":
			l.Role, l.RoleText = "bot", "bot"
		case "agent", "supervisor":
			// The chat log does not carry visibility; agents[] lists every
			// visible agent who took part, so an agent line from someone
			// not in it is a coach's or monitor's: never seen by the
			// customer.
			if visible[e.Participant] {
				l.Role, l.RoleText = "agent", e.Role
			} else {
				l.Role, l.RoleText = "internal", e.Role+" · coach or monitor, not shown to the customer"
				v.Internal++
			}
		default:
			l.Role, l.RoleText = "system", dialogOr(e.Role, "system")
		}
		v.Lines = append(v.Lines, l)
		if e.File != nil {
			v.Files = append(v.Files, l)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Metadata)) {
		v.Metadata = append(v.Metadata, dialogPair{k, c.Metadata[k]})
	}
	return v
}

func dialogOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// dialogClass keeps a card value usable as a CSS class name.
func dialogClass(s string) string {
	if s == "active" || s == "closed" {
		return s
	}
	return "other"
}

func dialogParse(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// dialogTime shows an instant in the folder's zone with its offset, so a
// reader in another zone is never misled.
func dialogTime(t time.Time, loc *time.Location, withDate bool) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(loc)
	if withDate {
		return t.Format("Mon 2 Jan 2006, 15:04:05") + " " + dialogZone(t)
	}
	return t.Format("15:04:05")
}

func dialogZone(t time.Time) string {
	abbr := t.Format("MST")
	off := t.Format("-07:00")
	if off == "+00:00" && abbr == "UTC" {
		return "UTC"
	}
	if strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		return "(UTC" + off + ")"
	}
	return abbr + " (UTC" + off + ")"
}

func dialogSpan(a, b time.Time) string {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return ""
	}
	return "lasted " + dialogDuration(b.Sub(a).Milliseconds())
}

// dialogDuration reads a millisecond figure the way a person says it:
// "850 ms", "41.5 s", "3 min 05 s", "2 h 07 min".
func dialogDuration(ms int64) string {
	if ms < 0 {
		return "−" + dialogDuration(-ms)
	}
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 60_000:
		if ms%1000 == 0 {
			return fmt.Sprintf("%d s", ms/1000)
		}
		return fmt.Sprintf("%d.%d s", ms/1000, ms%1000/100)
	case ms < 3_600_000:
		return fmt.Sprintf("%d min %02d s", ms/60_000, ms%60_000/1000)
	}
	return fmt.Sprintf("%d h %02d min", ms/3_600_000, ms%3_600_000/60_000)
}

// dialogSize reads a file size in bytes.
func dialogSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}
