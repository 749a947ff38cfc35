package pages

import (
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/summary"
)

//go:embed summary*.tmpl
var summaryFS embed.FS

var summaryTemplates = template.Must(template.New("summary").Funcs(template.FuncMap{
	"plotEnd":  func(c summaryChart) int { return c.PlotX + c.PlotW },
	"plotBase": func(c summaryChart) int { return c.PlotY + c.PlotH },
	"plotMid":  func(c summaryChart) int { return c.PlotX + c.PlotW/2 },
	"plotMidY": func(c summaryChart) int { return c.PlotY + c.PlotH/2 },
}).ParseFS(summaryFS, "summary.tmpl"))

// SummaryCSP is the Content-Security-Policy of summary.html, given in a meta
// tag because the page is a file in S3 (no headers of ours): nothing may
// load, no script runs; inline CSS and data: images only.
const SummaryCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// SummaryContentType is what summary.html is stored and served as.
const SummaryContentType = "text/html; charset=utf-8"

// SummaryOptions says how to render a day's summary.
type SummaryOptions struct {
	// Link returns the address of a session's dialog view. nil means
	// APISessionPath of the day's folder.
	Link func(sessionID string) string
	// LinkNote tells the reader what the session links open; "" gives the
	// note for APISessionPath.
	LinkNote string
}

// APISessionPath is the API's path of a session's card and dialog view,
// /v1/chat-sessions/{id}?folder=F. Opening it needs an API token.
func APISessionPath(folder, sessionID string) string {
	return "/v1/chat-sessions/" + url.PathEscape(sessionID) + "?folder=" + url.QueryEscape(folder)
}

const apiLinkNote = "Session links are the chatcards API path of the session " +
	"(/v1/chat-sessions/{id}?folder=…): open them against your API with an API token. " +
	"When share links are configured, the links open the dialog view directly."

// Summary writes summary.html of one folder × day. Every string from data
// (folder, agent names, session ids, end reasons) is escaped by
// html/template; no chat text is on the card summary at all. The output
// depends on d and opt only (no clock), so a re-run writes the same bytes.
func Summary(w io.Writer, d summary.Day, opt SummaryOptions) error {
	if opt.Link == nil {
		folder := d.Folder
		opt.Link = func(id string) string { return APISessionPath(folder, id) }
		if opt.LinkNote == "" {
			opt.LinkNote = apiLinkNote
		}
	}
	return summaryTemplates.ExecuteTemplate(w, "summary.tmpl", summaryViewOf(d, opt))
}

// ---- the view: everything formatted and laid out, the template only draws ----

type summaryView struct {
	CSP      string
	Title    string
	Folder   string
	DateLong string
	TimeZone string
	Empty    bool
	Verdict  string
	Tiles    []summaryTile
	Hourly   summaryChart
	Replies  summaryChart
	Target   string
	Agents   []summaryAgent
	Terms    summaryTerms
	Scores   []summaryScore
	CSAT     summaryTile
	Longest  []summaryWait
	LinkNote string
	Notes    []string
}

type summaryTile struct {
	Label, Value, Sub string
	Tone              string // "", "good", "warn", "bad"
}

// summaryChart is a bar chart in a fixed viewBox; the SVG scales to the
// page width, and the viewBox is narrow enough that its 12-unit labels stay
// legible at 390 px.
type summaryChart struct {
	W, H             int
	PlotX, PlotY     int // top left of the plot area
	PlotW, PlotH     int
	XTitle, YTitle   string
	YTitleX, YTitleY int
	Ticks            []summaryTick
	Bars             []summaryBar
	XLabels          []summaryLabel
	Marker           *summaryMarker
	Legend           []summaryLegend
	Desc             string
	Hint             string // a line under the chart, e.g. on a clock-change day
}

type summaryTick struct {
	Y     float64
	Label string
}

type summaryBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type summaryLabel struct {
	X     float64
	Y     int
	Text  string
	Class string
}

type summaryMarker struct {
	X          float64
	Y1, Y2     int
	Label      string
	LabelX     float64
	LabelAnchr string
}

type summaryLegend struct {
	X, Y  int
	Class string
	Text  string
}

type summaryAgent struct {
	Person, Name   string
	Met, Missed    int64
	Attainment     string
	Pct            float64 // bar width 0–100
	Tone           string
	NoAgentSession bool
}

type summaryTerms struct {
	Reasons []string
	Rows    []summaryTermRow
	Totals  []int64
	Total   int64
}

type summaryTermRow struct {
	By     string
	Counts []int64
	Total  int64
}

type summaryScore struct {
	Score int
	Count int64
	Pct   float64
	Share string
	High  bool
}

type summaryWait struct {
	Rank       int
	SessionID  string
	Href       string
	Start      string
	Wait       string
	FirstReply string
	MaxWait    string
	Agent      string
}

func summaryViewOf(d summary.Day, opt SummaryOptions) summaryView {
	day, _ := time.Parse(time.DateOnly, d.Date)
	v := summaryView{
		CSP:      SummaryCSP,
		Title:    fmt.Sprintf("%s · %s · daily summary", d.Folder, d.Date),
		Folder:   d.Folder,
		DateLong: day.Format("Monday 2 January 2006"),
		TimeZone: d.TimeZone,
		Empty:    d.Sessions == 0,
		Target:   summaryDuration(d.FirstReplyTargetMs),
		LinkNote: opt.LinkNote,
	}
	v.Verdict = summaryVerdict(d)
	v.Tiles = summaryTiles(d)
	v.Hourly = summaryHourly(d)
	v.Replies = summaryReplies(d)
	for _, a := range d.Agents {
		x := summaryAgent{Person: a.Person, Name: a.Name, Met: a.Met, Missed: a.Missed,
			Attainment: summaryPct(a.Attainment), NoAgentSession: a.Person == summary.NoAgent}
		if a.Attainment != nil {
			x.Pct = *a.Attainment * 100
			x.Tone = summaryTone(*a.Attainment)
		}
		v.Agents = append(v.Agents, x)
	}
	v.Terms = summaryTermsOf(d.Terminations)
	for s := 5; s >= 1; s-- {
		x := summaryScore{Score: s, Count: d.Scores[s], High: s >= 4}
		if d.Rated > 0 {
			x.Pct = float64(d.Scores[s]) * 100 / float64(d.Rated)
			x.Share = strconv.FormatFloat(x.Pct, 'f', 0, 64) + " %"
		}
		v.Scores = append(v.Scores, x)
	}
	for _, t := range v.Tiles {
		if t.Label == "CSAT" {
			v.CSAT = t
		}
	}
	for i, w := range d.Longest {
		agent := w.SupportPerson
		switch {
		case w.SupportName != "":
			agent = w.SupportName
		case agent == "":
			agent = "—"
		}
		v.Longest = append(v.Longest, summaryWait{
			Rank: i + 1, SessionID: w.SessionID, Href: opt.Link(w.SessionID),
			Start: w.Start.Format("15:04"), Wait: summaryDuration(w.WaitMs),
			FirstReply: summaryOptDuration(w.FirstReplyMs), MaxWait: summaryOptDuration(w.MaxCustomerWait),
			Agent: agent,
		})
	}
	v.Notes = []string{
		"Every figure belongs to the local day on which the session started (" + d.TimeZone + "), also when the session ran past midnight.",
		"Medians and 90th percentiles are exact (nearest rank): the median of an even count is the lower middle value.",
		"First reply: waitBeforeFirstReplyMs in calendar time (0 included); sessions without a first reply are left out. Service level is the card's own verdict against the target (business time when the folder has business hours), so a bar over the target can still be met.",
		"Agent response: every customer wait (the customer's last line to the agent's answer) of the day's sessions.",
		"Service level per agent is credited to the agent who sent the session's first reply (the card's firstReplyBy), as in the productivity report; “no agent” are the sessions it applies to that got no first reply at all (always missed).",
		"Handoffs: sessions handed to live agents (a handoff, or an agent took part), counted in the hour the session started.",
		"Longest waits: the larger of the session's first reply and its longest customer wait.",
	}
	return v
}

func summaryVerdict(d summary.Day) string {
	if d.Sessions == 0 {
		return "No sessions started on this day."
	}
	parts := []string{fmt.Sprintf("%d sessions", d.Sessions)}
	if d.Handoffs > 0 {
		parts = append(parts, fmt.Sprintf("%d handed to agents", d.Handoffs))
	}
	if d.Attainment != nil {
		parts = append(parts, "service level "+summaryPct(d.Attainment)+" within "+summaryDuration(d.FirstReplyTargetMs))
	}
	if d.FirstReplyMedianMs != nil {
		parts = append(parts, "median first reply "+summaryDuration(*d.FirstReplyMedianMs))
	}
	if d.CSAT != nil {
		parts = append(parts, "CSAT "+summaryPct(d.CSAT))
	}
	return strings.Join(parts, " · ") + "."
}

func summaryTiles(d summary.Day) []summaryTile {
	sl := summaryTile{Label: "Service level", Value: summaryPct(d.Attainment),
		Sub: fmt.Sprintf("%d met · %d missed · target %s", d.ServiceLevelMet, d.ServiceLevelMissed, summaryDuration(d.FirstReplyTargetMs))}
	if d.Attainment != nil {
		sl.Tone = summaryTone(*d.Attainment)
	}
	csat := summaryTile{Label: "CSAT", Value: summaryPct(d.CSAT),
		Sub: fmt.Sprintf("%d rated · average %s / 5", d.Rated, summaryScoreText(d.AverageScore))}
	if d.CSAT != nil {
		csat.Tone = summaryTone(*d.CSAT)
	}
	return []summaryTile{
		{Label: "Sessions", Value: strconv.FormatInt(d.Sessions, 10), Sub: fmt.Sprintf("%d closed · %d still active", d.Closed, d.Sessions-d.Closed)},
		{Label: "Handed to agents", Value: strconv.FormatInt(d.Handoffs, 10), Sub: summaryOf(d.Handoffs, d.Sessions) + " of sessions"},
		{Label: "Bot contained", Value: strconv.FormatInt(d.BotContained, 10), Sub: summaryPct(d.BotContainedShare) + " of sessions"},
		{Label: "Abandoned", Value: strconv.FormatInt(d.Abandoned, 10), Sub: "handed off, no agent came"},
		sl,
		{Label: "First reply (median)", Value: summaryOptDuration(d.FirstReplyMedianMs),
			Sub: "p90 " + summaryOptDuration(d.FirstReplyP90Ms) + " · max " + summaryOptDuration(d.FirstReplyMaxMs) + fmt.Sprintf(" · %d sessions", d.FirstReplyCount)},
		{Label: "Agent response (median)", Value: summaryOptDuration(d.CustomerWaitMedianMs),
			Sub: "p90 " + summaryOptDuration(d.CustomerWaitP90Ms) + fmt.Sprintf(" · %d replies", d.CustomerWaitCount)},
		csat,
	}
}

// Chart geometry, in viewBox units. 400 wide: on a 390 px phone (about 350
// px of chart) a 13-unit label is drawn at about 11 px; on a desktop the
// chart is capped by its max-width.
const (
	chartW     = 400
	chartH     = 220
	plotLeft   = 44
	plotRight  = 10
	plotTop    = 30
	plotBottom = 46
)

func summaryHourly(d summary.Day) summaryChart {
	c := summaryChart{W: chartW, H: chartH, PlotX: plotLeft, PlotY: plotTop,
		PlotW: chartW - plotLeft - plotRight, PlotH: chartH - plotTop - plotBottom,
		XTitle: "Local hour (" + d.TimeZone + ")", YTitle: "Sessions"}
	var peak int64
	for _, h := range d.Hours {
		peak = max(peak, h.Sessions)
	}
	top, step := summaryNiceScale(peak)
	c.Ticks = summaryTicks(c, top, step)
	n := len(d.Hours)
	slot := float64(c.PlotW) / float64(max(n, 1))
	every := 3
	for i, h := range d.Hours {
		x := float64(c.PlotX) + float64(i)*slot
		bw := slot * 0.78
		bx := x + (slot-bw)/2
		// A repeated hour's label is "03 +03:00": its tooltip reads
		// "03:00 (UTC+03:00)", not "03 +03:00:00".
		hourText := h.Label + ":00"
		if hh, off, ok := strings.Cut(h.Label, " "); ok {
			hourText = hh + ":00 (UTC" + off + ")"
		}
		title := fmt.Sprintf("%s — %d sessions, %d handed to agents", hourText, h.Sessions, h.Handoffs)
		if h.Sessions > 0 {
			hgt := float64(h.Sessions) / float64(top) * float64(c.PlotH)
			c.Bars = append(c.Bars, summaryBar{X: bx, Y: float64(c.PlotY+c.PlotH) - hgt, W: bw, H: hgt, Class: "b-sessions", Title: title})
		}
		if h.Handoffs > 0 {
			hgt := float64(h.Handoffs) / float64(top) * float64(c.PlotH)
			iw := bw * 0.5
			c.Bars = append(c.Bars, summaryBar{X: bx + (bw-iw)/2, Y: float64(c.PlotY+c.PlotH) - hgt, W: iw, H: hgt, Class: "b-handoffs", Title: title})
		}
		if i%every == 0 {
			c.XLabels = append(c.XLabels, summaryLabel{X: x + slot/2, Y: c.PlotY + c.PlotH + 16, Text: summaryHourText(h.Label)})
		}
	}
	c.Legend = []summaryLegend{{X: c.PlotX, Y: 14, Class: "b-sessions", Text: "sessions"}, {X: c.PlotX + 90, Y: 14, Class: "b-handoffs", Text: "handed to agents"}}
	c.Desc = fmt.Sprintf("Bar chart of sessions and handoffs for each of the %d local hours of the day.", n)
	switch {
	case n > 24:
		var rep []string
		for _, h := range d.Hours {
			if hh, off, ok := strings.Cut(h.Label, " "); ok {
				rep = append(rep, summaryHourText(h.Label)+" = "+hh+":00 at UTC"+off)
			}
		}
		c.Hint = fmt.Sprintf("The clocks went back: this day has %d hours; the repeated hour is labelled with its UTC offset (%s).", n, strings.Join(rep, ", "))
	case n < 24:
		c.Hint = fmt.Sprintf("The clocks went forward: this day has %d hours; the skipped hour has no bar.", n)
	}
	return c
}

// summaryHourText shortens "02 +01:00" (a repeated hour) to "02+1" on the
// axis; the full label is in the bar's tooltip.
func summaryHourText(label string) string {
	hh, off, ok := strings.Cut(label, " ")
	if !ok {
		return hh
	}
	off = strings.TrimSuffix(off, ":00")
	off = strings.Replace(off, "+0", "+", 1)
	off = strings.Replace(off, "-0", "-", 1)
	return hh + off
}

func summaryReplies(d summary.Day) summaryChart {
	// Two rows of bucket labels need more room under the plot.
	c := summaryChart{W: chartW, H: chartH, PlotX: plotLeft, PlotY: plotTop,
		PlotW: chartW - plotLeft - plotRight, PlotH: chartH - plotTop - plotBottom - 12,
		XTitle: "Wait before the first reply", YTitle: "Sessions"}
	var peak int64
	for _, b := range d.FirstReplyBuckets {
		peak = max(peak, b.Sessions)
	}
	top, step := summaryNiceScale(peak)
	c.Ticks = summaryTicks(c, top, step)
	n := len(d.FirstReplyBuckets)
	slot := float64(c.PlotW) / float64(n)
	for i, b := range d.FirstReplyBuckets {
		x := float64(c.PlotX) + float64(i)*slot
		bw := slot * 0.8
		label := summaryBucketLabel(b)
		class := "b-over"
		if b.WithinTarget {
			class = "b-met"
		}
		if b.Sessions > 0 {
			hgt := float64(b.Sessions) / float64(top) * float64(c.PlotH)
			c.Bars = append(c.Bars, summaryBar{X: x + (slot-bw)/2, Y: float64(c.PlotY+c.PlotH) - hgt, W: bw, H: hgt, Class: class,
				Title: fmt.Sprintf("%s: %d sessions", label, b.Sessions)})
		}
		// Labels alternate between two rows so that nine of them fit at
		// phone width without touching.
		y := c.PlotY + c.PlotH + 15
		if i%2 == 1 {
			y += 15
		}
		c.XLabels = append(c.XLabels, summaryLabel{X: x + slot/2, Y: y, Text: label})
		if b.ToMs == d.FirstReplyTargetMs && d.FirstReplyTargetMs > 0 {
			mx := x + slot
			m := &summaryMarker{X: mx, Y1: c.PlotY - 6, Y2: c.PlotY + c.PlotH, Label: "target " + summaryDuration(d.FirstReplyTargetMs),
				LabelX: mx + 4, LabelAnchr: "start"}
			if mx > float64(c.PlotX+c.PlotW)*0.7 {
				m.LabelX, m.LabelAnchr = mx-4, "end"
			}
			c.Marker = m
		}
	}
	c.Legend = []summaryLegend{{X: c.PlotX, Y: 14, Class: "b-met", Text: "within target"}, {X: c.PlotX + 115, Y: 14, Class: "b-over", Text: "over target"}}
	c.Desc = "Bar chart of how many sessions got their first reply within each waiting-time range; a dashed line marks the target."
	return c
}

func summaryBucketLabel(b summary.Bucket) string {
	if b.ToMs < 0 {
		return "> " + summaryShort(b.FromMs)
	}
	if b.FromMs == 0 {
		return "≤ " + summaryShort(b.ToMs)
	}
	return summaryShort(b.FromMs) + "–" + summaryShort(b.ToMs)
}

// summaryShort is a compact duration for axis labels: 30s, 2m, 1h, 1m30s.
func summaryShort(ms int64) string {
	s := ms / 1000
	switch {
	case ms%1000 != 0:
		return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + "s"
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s%3600 == 0:
		return strconv.FormatInt(s/3600, 10) + "h"
	case s%60 == 0:
		return strconv.FormatInt(s/60, 10) + "m"
	case s < 3600:
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%dm", s/3600, s%3600/60)
}

// summaryNiceScale returns the axis top (≥ peak, at least 1) and a tick step
// of 1, 2 or 5 × 10^k giving at most five steps.
func summaryNiceScale(peak int64) (top, step int64) {
	if peak <= 0 {
		return 4, 1
	}
	step = 1
	for {
		for _, m := range []int64{1, 2, 5} {
			if s := step * m; (peak+s-1)/s <= 5 {
				return (peak + s - 1) / s * s, s
			}
		}
		step *= 10
	}
}

func summaryTicks(c summaryChart, top, step int64) []summaryTick {
	var out []summaryTick
	for v := int64(0); v <= top; v += step {
		y := float64(c.PlotY+c.PlotH) - float64(v)/float64(top)*float64(c.PlotH)
		out = append(out, summaryTick{Y: y, Label: strconv.FormatInt(v, 10)})
	}
	return out
}

func summaryTermsOf(ts []summary.Termination) summaryTerms {
	name := func(s string) string {
		if s == "" {
			return "(not recorded)"
		}
		return s
	}
	var out summaryTerms
	reasonIdx := map[string]int{}
	for _, t := range ts {
		r := name(t.EndedReason)
		if _, ok := reasonIdx[r]; !ok {
			reasonIdx[r] = len(out.Reasons)
			out.Reasons = append(out.Reasons, r)
		}
	}
	// Reasons in a fixed order: the spec's list first, then any other.
	order := map[string]int{"QUIT": 0, "DISCONNECT": 1, "INACTIVE": 2, "FORCE": 3, "DB_ERROR": 4}
	rank := func(r string) int {
		if n, ok := order[r]; ok {
			return n
		}
		return 100
	}
	slices.SortFunc(out.Reasons, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	for i, r := range out.Reasons {
		reasonIdx[r] = i
	}
	out.Totals = make([]int64, len(out.Reasons))
	rowIdx := map[string]int{}
	for _, t := range ts {
		by := name(t.EndedBy)
		i, ok := rowIdx[by]
		if !ok {
			i = len(out.Rows)
			rowIdx[by] = i
			out.Rows = append(out.Rows, summaryTermRow{By: by, Counts: make([]int64, len(out.Reasons))})
		}
		j := reasonIdx[name(t.EndedReason)]
		out.Rows[i].Counts[j] += t.Sessions
		out.Rows[i].Total += t.Sessions
		out.Totals[j] += t.Sessions
		out.Total += t.Sessions
	}
	return out
}

func summaryTone(share float64) string {
	switch {
	case share >= 0.8:
		return "good"
	case share >= 0.6:
		return "warn"
	}
	return "bad"
}

// summaryPct shows a share as a percentage with one decimal; "—" for none.
func summaryPct(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(math.Round(*p*1000)/10, 'f', 1, 64) + " %"
}

func summaryOf(part, whole int64) string {
	if whole == 0 {
		return "—"
	}
	return strconv.FormatFloat(math.Round(float64(part)*1000/float64(whole))/10, 'f', 1, 64) + " %"
}

func summaryScoreText(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

func summaryOptDuration(p *int64) string {
	if p == nil {
		return "—"
	}
	return summaryDuration(*p)
}

// summaryDuration is a readable duration: "0 s", "4.2 s", "45 s",
// "1 min", "3 min 05 s", "2 h 05 min". Under ten seconds it keeps a tenth.
func summaryDuration(ms int64) string {
	switch {
	case ms < 10_000 && ms%1000 != 0:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
	case ms < 60_000:
		return strconv.FormatInt(ms/1000, 10) + " s"
	case ms < 3_600_000 && ms%60_000 < 1000:
		return fmt.Sprintf("%d min", ms/60_000)
	case ms < 3_600_000:
		return fmt.Sprintf("%d min %02d s", ms/60_000, ms%60_000/1000)
	}
	return fmt.Sprintf("%d h %02d min", ms/3_600_000, ms%3_600_000/60_000)
}
