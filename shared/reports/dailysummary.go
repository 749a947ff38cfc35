package reports

import (
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/pages"
	"github.com/chatcards/chatcards/shared/summary"
)

// ---- daily-summary ----

// dailySummaryReport is the daily-summary of analytics.md: one row per
// folder × local day of the session start, in the folder's time zone. It
// also renders each day's summary.html (summarypage.go), so it keeps one
// summary.Builder per day: a day's percentiles need that day's values.
type dailySummaryReport struct {
	env  summaryEnv
	days *summary.Days
}

// summarySettings are the folder's time zone and first-reply target: its
// FOLDERS entry when the export has a folders config, else the export's
// time zone and the default target.
func summarySettings(e env) (*time.Location, time.Duration) {
	if s := e.summary.settings; s != nil {
		return s.Location, s.FirstReplyTarget
	}
	if e.loc != nil {
		return e.loc, folders.DefaultFirstReplyTarget
	}
	return time.UTC, folders.DefaultFirstReplyTarget
}

func newDailySummaryReport(e env) report {
	loc, target := summarySettings(e)
	return &dailySummaryReport{env: e.summary, days: summary.NewDays(e.summary.folder, loc, target)}
}

// day is the summary of date (an empty one when no session started then).
func (r *dailySummaryReport) day(date string) (summary.Day, error) { return r.days.Day(date) }

// pageOptions are the page's link settings for this folder.
func (r *dailySummaryReport) pageOptions() pages.SummaryOptions {
	opt := pages.SummaryOptions{LinkNote: r.env.opt.LinkNote}
	if link, folder := r.env.opt.SessionLink, r.env.folder; link != nil {
		opt.Link = func(id string) string { return link(folder, id) }
	}
	return opt
}

func (*dailySummaryReport) columns() []Column {
	i := func(name string) Column { return Column{Name: name, Kind: KindInt} }
	oi := func(name string) Column { return Column{Name: name, Kind: KindInt, Nullable: true} }
	of := func(name string) Column { return Column{Name: name, Kind: KindFloat, Nullable: true} }
	return []Column{
		{Name: "folder"}, {Name: "day"}, {Name: "timeZone"},
		i("sessions"), i("closed"), i("handoffs"), i("botContained"), of("botContainedShare"), i("abandoned"),
		i("serviceLevelMet"), i("serviceLevelMissed"), of("serviceLevelAttainment"),
		i("firstReplySessions"), oi("firstReplyMedianMs"), oi("firstReplyP90Ms"), oi("firstReplyMaxMs"),
		i("customerWaitPairs"), oi("customerWaitMedianMs"), oi("customerWaitP90Ms"),
		i("ratedSessions"), of("averageScore"), of("csat"),
	}
}

func (r *dailySummaryReport) card(c *card.Card, _ emitFunc) error { return r.days.Add(c) }

func (r *dailySummaryReport) finish(emit emitFunc) error {
	for _, date := range r.days.Dates() {
		d, err := r.days.Day(date)
		if err != nil {
			return err
		}
		if err := emit(dailySummaryRow(d)); err != nil {
			return err
		}
	}
	return nil
}

func optFloat(p *float64) Cell {
	if p == nil {
		return null()
	}
	return float(*p)
}

func dailySummaryRow(d summary.Day) Row {
	return Row{
		str(d.Folder), str(d.Date), str(d.TimeZone),
		num(d.Sessions), num(d.Closed), num(d.Handoffs), num(d.BotContained), optFloat(d.BotContainedShare), num(d.Abandoned),
		num(d.ServiceLevelMet), num(d.ServiceLevelMissed), optFloat(d.Attainment),
		num(d.FirstReplyCount), optNum(d.FirstReplyMedianMs), optNum(d.FirstReplyP90Ms), optNum(d.FirstReplyMaxMs),
		num(d.CustomerWaitCount), optNum(d.CustomerWaitMedianMs), optNum(d.CustomerWaitP90Ms),
		num(d.Rated), optFloat(d.AverageScore), optFloat(d.CSAT),
	}
}
