// Package transcript is the one input model of chatcards: everything the chat
// platform knows about one chatbot widget session (transcript v1), decoded from
// any source format and normalised so the statistics engine can trust it.
package transcript

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Role of a participant.
type Role uint8

const (
	RoleUnknown Role = iota
	RoleCustomer
	RoleAgent
	RoleSupervisor
	RoleBot
	RoleSystem
)

var roleNames = [...]string{"", "customer", "agent", "supervisor", "bot", "system"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return ""
}

// ParseRole maps a role name to a Role; ok is false for anything unknown.
func ParseRole(s string) (Role, bool) {
	for i, n := range roleNames {
		if i > 0 && n == s {
			return Role(i), true
		}
	}
	return RoleUnknown, false
}

// Visibility of an agent or supervisor. The zero value is VisibilityAll.
type Visibility uint8

const (
	VisibilityAll Visibility = iota
	VisibilityCoach
	VisibilityMonitor
)

var visibilityNames = [...]string{"all", "coach", "monitor"}

func (v Visibility) String() string {
	if int(v) < len(visibilityNames) {
		return visibilityNames[v]
	}
	return ""
}

// ParseVisibility maps a visibility name; ok is false for anything unknown.
func ParseVisibility(s string) (Visibility, bool) {
	for i, n := range visibilityNames {
		if n == s {
			return Visibility(i), true
		}
	}
	return VisibilityAll, false
}

// Participant is someone (or something) that took part in the session.
type Participant struct {
	ID         string
	Role       Role
	Name       string
	Person     string
	Visibility Visibility // agents and supervisors only
}

// PersonRef is the participant's person reference, else its id.
func (p *Participant) PersonRef() string {
	if p.Person != "" {
		return p.Person
	}
	return p.ID
}

// VisibleAgent reports whether p counts as an agent for the statistics:
// an agent or supervisor seen by the customer.
func (p *Participant) VisibleAgent() bool {
	return (p.Role == RoleAgent || p.Role == RoleSupervisor) && p.Visibility == VisibilityAll
}

// EventType of an event. EventUnknown covers every type this engine does not
// know; such events keep their original name in Event.RawType.
type EventType uint8

const (
	EventUnknown EventType = iota
	EventStarted
	EventMessage
	EventAttachment
	EventJoined
	EventLeft
	EventHandoff
	EventTicket
	EventMarker
	EventPage
	EventDormant
	EventResumed
	EventEnded
	EventRating
)

var eventNames = [...]string{"", "started", "message", "attachment", "joined", "left", "handoff", "ticket", "marker", "page", "dormant", "resumed", "ended", "rating"}

func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return ""
}

// ParseEventType maps a type name; unknown names give EventUnknown.
func ParseEventType(s string) EventType {
	for i, n := range eventNames {
		if i > 0 && n == s {
			return EventType(i)
		}
	}
	return EventUnknown
}

// File is an attachment's description.
type File struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// Event is one thing that happened. At is milliseconds since the Unix epoch,
// UTC: digits past the millisecond are cut off when reading.
type Event struct {
	At          int64
	Type        EventType
	RawType     string // the type name as read; set for unknown types
	Participant string // participant id; "" for none
	// P is the index of Participant in Transcript.Participants, -1 for none.
	// Normalize sets it, so readers need no map look-ups.
	P         int32
	Text      string
	Automatic bool
	File      *File
	Reason    string
	Ticket    string
	Marker    string
	URL       string
	// Score and Comment are a rating event's: Score 1–5 (5 best), Comment
	// free text, "" for none.
	Score   int
	Comment string
}

// Time returns At as a UTC time.
func (e *Event) Time() time.Time { return time.UnixMilli(e.At).UTC() }

// Transcript is one widget session, version 1.
type Transcript struct {
	Version      int
	SessionID    string
	Tenant       string
	Channel      string
	Language     string
	Async        bool
	Participants []Participant
	Events       []Event
	// Warnings are non-fatal findings of reading, such as events after the end.
	Warnings []string
}

// Millis converts a time to the model's milliseconds, cutting (not rounding)
// anything finer.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FormatMillis renders milliseconds as RFC 3339 UTC with exactly three
// fraction digits, the one time format of cards and reports.
func FormatMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Error is a validation error naming the field and, for events, the index.
type Error struct {
	Field string // e.g. "sessionId", "participants[2].role", "events[7].at"
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "transcript: " + e.Msg
	}
	return "transcript: " + e.Field + ": " + e.Msg
}

func errf(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ValidSessionID reports whether s is 1 to 128 characters of A-Z a-z 0-9 . _ : -
func ValidSessionID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

var leftReasons = map[string]bool{"quit": true, "disconnect": true}
var endedReasons = map[string]bool{"quit": true, "disconnect": true, "force": true, "inactive": true, "error": true}

// Normalize validates t against the rules of reading, sorts events by time
// (stably, so equal instants keep input order), resolves participant indexes
// and records warnings. Every decoder ends with it; code that builds a
// Transcript by hand must call it before computing statistics.
func (t *Transcript) Normalize() error {
	if t.Version != 1 {
		return errf("version", "must be the integer 1, got %d", t.Version)
	}
	if t.SessionID == "" {
		return errf("sessionId", "is required")
	}
	if !ValidSessionID(t.SessionID) {
		return errf("sessionId", "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")
	}
	if len([]rune(t.Channel)) > 64 {
		return errf("channel", "is longer than 64 characters")
	}
	if len(t.Participants) == 0 {
		return errf("participants", "at least one participant is required")
	}
	index := make(map[string]int32, len(t.Participants))
	for i := range t.Participants {
		p := &t.Participants[i]
		f := fmt.Sprintf("participants[%d]", i)
		if p.ID == "" {
			return errf(f+".id", "is required")
		}
		if _, dup := index[p.ID]; dup {
			return errf(f+".id", "duplicate id %q", p.ID)
		}
		if p.Role == RoleUnknown || p.Role > RoleSystem {
			return errf(f+".role", "is required (customer, agent, supervisor, bot, system)")
		}
		if p.Visibility != VisibilityAll && p.Role != RoleAgent && p.Role != RoleSupervisor {
			return errf(f+".visibility", "only agents and supervisors have a visibility")
		}
		index[p.ID] = int32(i)
	}
	for i := range t.Events {
		e := &t.Events[i]
		e.P = -1
		if e.Participant != "" {
			p, ok := index[e.Participant]
			if !ok {
				return errf(eventField(i, ".participant"), "names %q, who is not in participants", e.Participant)
			}
			e.P = p
		}
		if err := checkEvent(e, i); err != nil {
			return err
		}
	}
	sortEvents(t.Events)
	t.Warnings = t.Warnings[:0]
	for i := range t.Events {
		if t.Events[i].Type == EventEnded {
			// Rule 5: a rating after the end is a post-chat survey, still
			// used, so it is not among the ignored events.
			n := 0
			for _, e := range t.Events[i+1:] {
				if e.Type != EventRating {
					n++
				}
			}
			if n > 0 {
				t.Warnings = append(t.Warnings, fmt.Sprintf("%d event(s) after the session ended are ignored", n))
			}
			break
		}
	}
	return nil
}

// eventField names a field of event i; built only on error, as Normalize
// runs on every event of every transcript.
func eventField(i int, field string) string { return "events[" + strconv.Itoa(i) + "]" + field }

func checkEvent(e *Event, i int) error {
	f := func(field string) string { return eventField(i, field) }
	needParticipant := func() error {
		if e.Participant == "" {
			return errf(f(".participant"), "is required for %s", e.Type)
		}
		return nil
	}
	switch e.Type {
	case EventMessage:
		if err := needParticipant(); err != nil {
			return err
		}
		// Text may be "" (rule 7): a button- or card-only line is a full
		// message of size 0.
		// The engine counts code points assuming valid UTF-8 (rule 7
		// refuses anything else), so every transcript is held to it here.
		if !utf8.ValidString(e.Text) {
			return errf(f(".text"), "is not valid UTF-8")
		}
	case EventAttachment:
		if err := needParticipant(); err != nil {
			return err
		}
		if e.File == nil {
			return errf(f(".file"), "is required for attachment")
		}
		// Name and ContentType may be "" (rule 7): platforms send files
		// they do not name.
		if e.File.Size < 0 {
			return errf(f(".file.size"), "must be a non-negative integer")
		}
	case EventJoined:
		return needParticipant()
	case EventLeft:
		if err := needParticipant(); err != nil {
			return err
		}
		if e.Reason != "" && !leftReasons[e.Reason] {
			return errf(f(".reason"), "%q is not one of quit, disconnect", e.Reason)
		}
	case EventTicket:
		if e.Ticket == "" {
			return errf(f(".ticket"), "is required for ticket")
		}
	case EventMarker:
		if e.Marker == "" {
			return errf(f(".marker"), "is required for marker")
		}
	case EventPage:
		if e.URL == "" {
			return errf(f(".url"), "is required for page")
		}
	case EventRating:
		if e.Score < 1 || e.Score > 5 {
			return errf(f(".score"), "must be an integer from 1 to 5, got %d", e.Score)
		}
	case EventEnded:
		if e.Reason != "" && !endedReasons[e.Reason] {
			return errf(f(".reason"), "%q is not one of quit, disconnect, force, inactive, error", e.Reason)
		}
	case EventUnknown:
		if e.RawType == "" {
			return errf(f(".type"), "is required")
		}
	}
	return nil
}

// sortEvents is a stable insertion-merge: transcripts are almost always
// already in order, so the common case is one linear pass with no allocation.
func sortEvents(ev []Event) {
	sorted := true
	for i := 1; i < len(ev); i++ {
		if ev[i].At < ev[i-1].At {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	stableSortByAt(ev)
}
