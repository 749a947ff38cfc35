package stats_test

import (
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// base is 2026-11-20T09:00:00Z; test times are seconds after it.
var base = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli()

func at(sec float64) int64 { return base + int64(sec*1000) }

var people = []transcript.Participant{
	{ID: "c1", Role: transcript.RoleCustomer, Name: "Jane Doe", Person: "person/1042"},
	{ID: "b1", Role: transcript.RoleBot, Name: "Helpbot"},
	{ID: "a1", Role: transcript.RoleAgent, Name: "Ann", Person: "person/7"},
	{ID: "a2", Role: transcript.RoleAgent, Name: "Bob", Person: "person/8"},
	{ID: "s1", Role: transcript.RoleSupervisor, Name: "Sam", Person: "person/3", Visibility: transcript.VisibilityCoach},
	{ID: "m1", Role: transcript.RoleSupervisor, Name: "Mia", Person: "person/4", Visibility: transcript.VisibilityMonitor},
	{ID: "sv", Role: transcript.RoleSupervisor, Name: "Vic", Person: "person/5"},
	{ID: "sys", Role: transcript.RoleSystem},
}

func ev(sec float64, typ transcript.EventType, who string) transcript.Event {
	return transcript.Event{At: at(sec), Type: typ, Participant: who}
}
func started(sec float64) transcript.Event { return ev(sec, transcript.EventStarted, "") }
func msg(sec float64, who, text string) transcript.Event {
	e := ev(sec, transcript.EventMessage, who)
	e.Text = text
	return e
}
func auto(sec float64, who, text string) transcript.Event {
	e := msg(sec, who, text)
	e.Automatic = true
	return e
}
func file(sec float64, who string) transcript.Event {
	e := ev(sec, transcript.EventAttachment, who)
	e.File = &transcript.File{Name: "error.png", ContentType: "image/png", Size: 48211}
	return e
}
func joined(sec float64, who string) transcript.Event { return ev(sec, transcript.EventJoined, who) }
func left(sec float64, who, reason string) transcript.Event {
	e := ev(sec, transcript.EventLeft, who)
	e.Reason = reason
	return e
}
func ended(sec float64, who, reason string) transcript.Event {
	e := ev(sec, transcript.EventEnded, who)
	e.Reason = reason
	return e
}
func handoff(sec float64) transcript.Event { return ev(sec, transcript.EventHandoff, "") }
func dormant(sec float64) transcript.Event { return ev(sec, transcript.EventDormant, "") }
func resumed(sec float64) transcript.Event { return ev(sec, transcript.EventResumed, "") }
func ticket(sec float64, who, id string) transcript.Event {
	e := ev(sec, transcript.EventTicket, who)
	e.Ticket = id
	return e
}
func marker(sec float64, m string) transcript.Event {
	e := ev(sec, transcript.EventMarker, "")
	e.Marker = m
	return e
}
func page(sec float64, u string) transcript.Event {
	e := ev(sec, transcript.EventPage, "")
	e.URL = u
	return e
}
func unknown(sec float64, typ string) transcript.Event {
	e := ev(sec, transcript.EventUnknown, "")
	e.RawType = typ
	return e
}

type opt func(*transcript.Transcript)

func async(t *transcript.Transcript) { t.Async = true }

// withC2 adds a second customer with no person reference.
func withC2(t *transcript.Transcript) {
	t.Participants = append(t.Participants, transcript.Participant{ID: "c2", Role: transcript.RoleCustomer})
}

// build makes a normalised transcript of the standard cast.
func build(tb testing.TB, events []transcript.Event, opts ...opt) *transcript.Transcript {
	tb.Helper()
	t := &transcript.Transcript{
		Version: 1, SessionID: "w-1", Tenant: "helpdesk", Channel: "web", Language: "en",
		Participants: append([]transcript.Participant(nil), people...),
		Events:       append([]transcript.Event(nil), events...),
	}
	for _, o := range opts {
		o(t)
	}
	if err := t.Normalize(); err != nil {
		tb.Fatalf("normalize: %v", err)
	}
	return t
}

func compute(tb testing.TB, mode stats.Mode, events []transcript.Event, opts ...opt) *stats.Card {
	tb.Helper()
	s := stats.DefaultSettings()
	s.Mode = mode
	return stats.Compute(build(tb, events, opts...), s, nil)
}

func ms(v int64) *int64 { return &v }
