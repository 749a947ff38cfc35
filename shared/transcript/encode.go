package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The wire shapes of transcript v1 for writing. Optional fields carry
// omitempty so a written transcript shows only what the model holds.
type v1Out struct {
	Version      int              `json:"version"`
	SessionID    string           `json:"sessionId"`
	Tenant       string           `json:"tenant,omitempty"`
	Channel      string           `json:"channel,omitempty"`
	Language     string           `json:"language,omitempty"`
	Async        bool             `json:"async,omitempty"`
	Participants []participantOut `json:"participants"`
	Events       []eventOut       `json:"events"`
}

type participantOut struct {
	ID         string `json:"id"`
	Role       string `json:"role"`
	Name       string `json:"name,omitempty"`
	Person     string `json:"person,omitempty"`
	Visibility string `json:"visibility,omitempty"`
}

type eventOut struct {
	At          string `json:"at"`
	Type        string `json:"type"`
	Participant string `json:"participant,omitempty"`
	// Text is a pointer so that a message's "" is written (rule 7 keeps a
	// line of size 0) while other types carry no text at all.
	Text      *string `json:"text,omitempty"`
	Automatic bool    `json:"automatic,omitempty"`
	File      *File   `json:"file,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	Ticket    string  `json:"ticket,omitempty"`
	Marker    string  `json:"marker,omitempty"`
	URL       string  `json:"url,omitempty"`
	Score     *int    `json:"score,omitempty"`
	Comment   string  `json:"comment,omitempty"`
}

// Encode writes t as transcript v1 JSON: times as RFC 3339 UTC with
// milliseconds, optional fields left out when empty, the default visibility
// (all) left out. An unknown event is written with its RawType and only its
// time and participant, since that is all the model promises to keep of it.
// Version is always written as 1 (the only format this package writes).
// Encode checks only what it needs to write valid JSON of the right shape
// (a known role, a type name for every event, a time in years 0000-9999);
// DecodeV1 (or Normalize) is where the rules of reading are enforced.
func Encode(t *Transcript) ([]byte, error) {
	if t == nil {
		return nil, &Error{Msg: "encode: nil transcript"}
	}
	out := v1Out{
		Version:      1,
		SessionID:    t.SessionID,
		Tenant:       t.Tenant,
		Channel:      t.Channel,
		Language:     t.Language,
		Async:        t.Async,
		Participants: make([]participantOut, len(t.Participants)),
		Events:       make([]eventOut, len(t.Events)),
	}
	for i := range t.Participants {
		p := &t.Participants[i]
		role := p.Role.String()
		if role == "" {
			return nil, errf(fmt.Sprintf("participants[%d].role", i), "cannot encode role %d", p.Role)
		}
		po := participantOut{ID: p.ID, Role: role, Name: p.Name, Person: p.Person}
		if p.Visibility != VisibilityAll {
			if po.Visibility = p.Visibility.String(); po.Visibility == "" {
				return nil, errf(fmt.Sprintf("participants[%d].visibility", i), "cannot encode visibility %d", p.Visibility)
			}
		}
		out.Participants[i] = po
	}
	for i := range t.Events {
		e := &t.Events[i]
		f := fmt.Sprintf("events[%d]", i)
		if !millisInRange(e.At) {
			return nil, errf(f+".at", "%d ms is outside the years 0000-9999", e.At)
		}
		eo := eventOut{At: FormatMillis(e.At), Participant: e.Participant}
		if e.Type == EventUnknown {
			if e.RawType == "" {
				return nil, errf(f+".type", "unknown event without a RawType")
			}
			if ParseEventType(e.RawType) != EventUnknown {
				return nil, errf(f+".type", "unknown event with the RawType of a known type %q", e.RawType)
			}
			eo.Type = e.RawType
			out.Events[i] = eo
			continue
		}
		if eo.Type = e.Type.String(); eo.Type == "" {
			return nil, errf(f+".type", "cannot encode event type %d", e.Type)
		}
		// Only the fields of the event's own type are written, so the output
		// reads back to the same model.
		switch e.Type {
		case EventMessage:
			eo.Text, eo.Automatic = &e.Text, e.Automatic
		case EventAttachment:
			eo.File, eo.Automatic = e.File, e.Automatic
		case EventLeft, EventEnded:
			eo.Reason = e.Reason
		case EventTicket:
			eo.Ticket = e.Ticket
		case EventMarker:
			eo.Marker = e.Marker
		case EventPage:
			eo.URL = e.URL
		case EventRating:
			eo.Score, eo.Comment = &e.Score, e.Comment
		}
		out.Events[i] = eo
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// URLs and chat text stay readable: no \u0026 for every '&'.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("transcript: encode %s: %w", t.SessionID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// minMillis and maxMillis bound the instants RFC 3339 can write in UTC:
// 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
const (
	minMillis = -62167219200000
	maxMillis = 253402300799999
)

func millisInRange(ms int64) bool { return ms >= minMillis && ms <= maxMillis }
