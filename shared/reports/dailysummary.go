package reports

import (
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/summary"
)

// ---- daily-summary ----

// dailySummaryReport is the daily-summary of analytics.md: one row per
// folder × local day of the session start, in the folder's time zone. It
// also renders each day's summary.html (summarypage.go), so it keeps one
// summary.Builder per day: a day's percentiles need that day's values.
type dailySummaryReport struct {
	folder   string
	settings *folders.Settings
	days     *summary.Days // nil until the first card names the folder
	// link makes the dialog-view link of a session on the page.
	link func(folder, sessionID string) string
}

// summarySettings are the folder's settings for the summary: its FOLDERS
// entry when the export has a folders config, else the export's time zone
// and the default first-reply target.
func summarySettings(e env) *folders.Settings {
	if e.folder != nil {
		return e.folder
	}
	loc := e.loc
	if loc == nil {
		loc = time.UTC
	}
	return &folders.Settings{Location: loc, FirstReplyTarget: folders.DefaultFirstReplyTarget}
}

func newDailySummaryReport(e env) report {
	return &dailySummaryReport{settings: summarySettings(e), link: e.sessionLink}
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

func (r *dailySummaryReport) card(c *card.Card, _ emitFunc) error {
	if r.days == nil {
		r.folder = c.Folder
		r.days = summary.NewDays(c.Folder, r.settings.Location, r.settings.FirstReplyTarget)
	}
	return r.days.Add(c)
}

func (r *dailySummaryReport) finish(emit emitFunc) error {
	if r.days == nil {
		return nil
	}
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
