package transcript

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DecodeV1 reads a transcript v1 document and returns it normalised.
//
// Choices where the format leaves room, so that nothing is guessed:
//   - Field names match exactly (encoding/json would also take "Version").
//   - A key given twice in one object is refused, whatever the object
//     (top level, participants[i], events[i], events[i].file, or a value
//     that is only skipped) and whether or not the key is one we read:
//     `events[3].text: duplicate key`. Keys are compared after unescaping,
//     so "te\u0078t" repeats "text". (encoding/json would let the last one
//     win, which lets two readers of one document see different things.)
//     Inside a skipped value the error gives a byte offset, not a path:
//     building paths there would cost every document. Known keys are bits
//     of a fixed-size mask per object; others are compared with the few
//     met before in the same object (a map only past eight of them), so the
//     check allocates nothing for a usual document.
//   - An optional field given as the empty string is not the same as absent:
//     "visibility": "", "reason": "" and "participant": "" are errors.
//   - `version` and `file.size` must be plain integer literals: 1.0, 1e0,
//     -0 and 1e3 are refused.
//   - `participant` is read on every event type, unknown ones included, since
//     rule 2 applies whatever the type; any other field is looked at only for
//     the types that have it.
//   - `language` is not checked against BCP 47: the rules of reading do not
//     list it among the errors.
//   - A message's `text` and an attachment's `file.name` and
//     `file.contentType` may be "" (rule 7: button-only lines, unnamed
//     files), but must be there: absent or null is still missing.
//   - A rating's `score` must be one of the literals 1, 2, 3, 4, 5 (5.0 and
//     5e0 are refused, as for `version`); its `comment` may be "", which is
//     the same as no comment.
//
// Unescaped strings of the result share one copy of data, so a transcript
// keeps that copy alive for as long as it lives.
func DecodeV1(data []byte) (*Transcript, error) {
	if !utf8.Valid(data) {
		return nil, &Error{Msg: "not JSON: invalid UTF-8"}
	}
	sc := &scanner{s: string(data)}
	t, err := decodeV1(sc)
	if err != nil {
		return nil, err
	}
	if err := sc.end(); err != nil {
		return nil, err
	}
	if err := t.Normalize(); err != nil {
		return nil, err
	}
	return t, nil
}

func decodeV1(sc *scanner) (*Transcript, error) {
	if k := sc.peek(); k != kindObject {
		if k == kindInvalid || k == kindEOF {
			return nil, sc.skip()
		}
		return nil, &Error{Msg: fmt.Sprintf("a transcript is a JSON object, not %s", k)}
	}
	sc.i++
	t := &Transcript{}
	var haveVersion, haveSession, haveParticipants, haveEvents bool
	var keys keySet
	for first := true; ; first = false {
		key, ok, err := sc.next(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if keys.seen(v1TopBit(key), key) {
			return nil, dupKey(clip(key))
		}
		switch key {
		case "version":
			lit, st, err := sc.optNumber()
			if err != nil {
				return nil, err
			}
			haveVersion = st != stNull
			if st == stWrong || (st == stOK && lit != "1") {
				return nil, errf("version", "must be the integer 1")
			}
			t.Version = 0
			if st == stOK {
				t.Version = 1
			}
		case "sessionId":
			v, st, err := sc.optString()
			if err != nil {
				return nil, err
			}
			if st == stWrong {
				return nil, errf("sessionId", "must be a string")
			}
			t.SessionID, haveSession = v, st == stOK
		case "tenant", "channel", "language":
			v, st, err := sc.optString()
			if err != nil {
				return nil, err
			}
			if st == stWrong {
				return nil, errf(key, "must be a string")
			}
			switch key {
			case "tenant":
				t.Tenant = v
			case "channel":
				t.Channel = v
			default:
				t.Language = v
			}
		case "async":
			v, st, err := sc.optBool()
			if err != nil {
				return nil, err
			}
			if st == stWrong {
				return nil, errf("async", "must be true or false")
			}
			t.Async = v
		case "participants":
			switch sc.peek() {
			case kindNull:
				haveParticipants, t.Participants = false, nil
				if err := sc.literal("null"); err != nil {
					return nil, err
				}
			case kindArray:
				haveParticipants = true
				if t.Participants, err = decodeParticipants(sc); err != nil {
					return nil, err
				}
			default:
				if err := sc.skip(); err != nil {
					return nil, err
				}
				return nil, errf("participants", "must be an array")
			}
		case "events":
			switch sc.peek() {
			case kindNull:
				haveEvents, t.Events = false, nil
				if err := sc.literal("null"); err != nil {
					return nil, err
				}
			case kindArray:
				haveEvents = true
				if t.Events, err = decodeEvents(sc); err != nil {
					return nil, err
				}
			default:
				if err := sc.skip(); err != nil {
					return nil, err
				}
				return nil, errf("events", "must be an array")
			}
		default:
			if err := sc.skip(); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case !haveVersion:
		return nil, errf("version", "is required")
	case !haveSession || t.SessionID == "":
		return nil, errf("sessionId", "is required")
	case !haveParticipants:
		return nil, errf("participants", "is required")
	case !haveEvents:
		return nil, errf("events", "is required")
	}
	return t, nil
}

// v1TopBit maps a top-level key of transcript v1 to its bit in a keySet.
func v1TopBit(key string) uint32 {
	switch key {
	case "version":
		return 1 << 0
	case "sessionId":
		return 1 << 1
	case "tenant":
		return 1 << 2
	case "channel":
		return 1 << 3
	case "language":
		return 1 << 4
	case "async":
		return 1 << 5
	case "participants":
		return 1 << 6
	case "events":
		return 1 << 7
	}
	return 0
}

func decodeParticipants(sc *scanner) ([]Participant, error) {
	sc.i++ // '['
	var ps []Participant
	for first := true; ; first = false {
		ok, err := sc.elem(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return ps, nil
		}
		n := len(ps)
		field := func(name string) string { return fmt.Sprintf("participants[%d]%s", n, name) }
		if k := sc.peek(); k != kindObject {
			if err := sc.skip(); err != nil {
				return nil, err
			}
			return nil, errf(field(""), "must be an object, not %s", k)
		}
		sc.i++
		var p Participant
		var role, vis string
		var haveVis bool
		var keys keySet
		for first := true; ; first = false {
			key, ok, err := sc.next(first)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			var dst *string
			var bit uint32
			switch key {
			case "id":
				dst, bit = &p.ID, 1<<0
			case "role":
				dst, bit = &role, 1<<1
			case "name":
				dst, bit = &p.Name, 1<<2
			case "person":
				dst, bit = &p.Person, 1<<3
			case "visibility":
				dst, bit = &vis, 1<<4
			}
			if bit != 0 && keys.seenBit(bit) || bit == 0 && keys.seenOther(key) {
				return nil, dupKey(field("." + clip(key)))
			}
			if dst == nil {
				if err := sc.skip(); err != nil {
					return nil, err
				}
				continue
			}
			v, st, err := sc.optString()
			if err != nil {
				return nil, err
			}
			if st == stWrong {
				return nil, errf(field("."+key), "must be a string")
			}
			*dst = v
			if key == "visibility" {
				haveVis = st == stOK
			}
		}
		if p.ID == "" {
			return nil, errf(field(".id"), "is required")
		}
		if role == "" {
			return nil, errf(field(".role"), "is required (customer, agent, supervisor, bot, system)")
		}
		var ok2 bool
		if p.Role, ok2 = ParseRole(role); !ok2 {
			return nil, errf(field(".role"), "unknown role %q (customer, agent, supervisor, bot, system)", clip(role))
		}
		if haveVis {
			if p.Role != RoleAgent && p.Role != RoleSupervisor {
				return nil, errf(field(".visibility"), "only agents and supervisors have a visibility, not a %s", p.Role)
			}
			if p.Visibility, ok2 = ParseVisibility(vis); !ok2 {
				return nil, errf(field(".visibility"), "unknown visibility %q (all, coach, monitor)", clip(vis))
			}
		}
		ps = append(ps, p)
	}
}

// Event fields, as bits of evIn.has (present and not null) and evIn.bad
// (present with the wrong JSON type). Type errors are recorded rather than
// returned because whether a field matters depends on the event's type,
// which may come after it.
const (
	fAt uint16 = 1 << iota
	fType
	fParticipant
	fText
	fAutomatic
	fFile
	fReason
	fTicket
	fMarker
	fURL
	fFileName
	fFileContentType
	fFileSize
	fScore
	fComment
)

type evIn struct {
	at, typ, participant, text, reason, ticket, marker, url string
	fileName, fileContentType, fileSize, score, comment     string
	automatic                                               bool
	has, bad                                                uint16
}

func (ev *evIn) set(bit uint16, st valueState) {
	ev.has &^= bit
	ev.bad &^= bit
	switch st {
	case stOK:
		ev.has |= bit
	case stWrong:
		ev.bad |= bit
	}
}

// evStringField maps an event key to its bit; 0 for keys that are not
// string fields. A switch, not a map: it is on the hot path.
func evStringField(key string) uint16 {
	switch key {
	case "at":
		return fAt
	case "type":
		return fType
	case "participant":
		return fParticipant
	case "text":
		return fText
	case "reason":
		return fReason
	case "ticket":
		return fTicket
	case "marker":
		return fMarker
	case "url":
		return fURL
	case "comment":
		return fComment
	}
	return 0
}

func (ev *evIn) str(bit uint16) *string {
	switch bit {
	case fAt:
		return &ev.at
	case fType:
		return &ev.typ
	case fParticipant:
		return &ev.participant
	case fText:
		return &ev.text
	case fReason:
		return &ev.reason
	case fTicket:
		return &ev.ticket
	case fMarker:
		return &ev.marker
	case fURL:
		return &ev.url
	case fFileName:
		return &ev.fileName
	case fFileContentType:
		return &ev.fileContentType
	case fComment:
		return &ev.comment
	}
	return nil
}

func decodeEvents(sc *scanner) ([]Event, error) {
	sc.i++ // '['
	// Sizing the slice up front saves the copies of append's doubling. The
	// count of "at" keys is a cheap over-estimate; the cap by length bounds
	// what a hostile document can make us allocate (an event with a valid
	// time is over 40 bytes).
	rest := sc.s[sc.i:]
	est := min(strings.Count(rest, `"at"`), len(rest)/40)
	events := make([]Event, 0, est)
	for first := true; ; first = false {
		ok, err := sc.elem(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return events, nil
		}
		n := len(events)
		if k := sc.peek(); k != kindObject {
			if err := sc.skip(); err != nil {
				return nil, err
			}
			return nil, errf(fmt.Sprintf("events[%d]", n), "must be an object, not %s", k)
		}
		var ev evIn
		if err := ev.read(sc, n); err != nil {
			return nil, err
		}
		events = append(events, Event{})
		if err := ev.toEvent(&events[n], n); err != nil {
			return nil, err
		}
	}
}

// read fills ev from the event object at the scanner; n is the event's
// index, for errors.
func (ev *evIn) read(sc *scanner, n int) error {
	sc.i++ // '{'
	var keys keySet
	for first := true; ; first = false {
		key, ok, err := sc.next(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		sbit := evStringField(key)
		bit := sbit
		if bit == 0 {
			switch key {
			case "score":
				bit = fScore
			case "automatic":
				bit = fAutomatic
			case "file":
				bit = fFile
			}
		}
		if bit != 0 && keys.seenBit(uint32(bit)) || bit == 0 && keys.seenOther(key) {
			return dupKey(fmt.Sprintf("events[%d].%s", n, clip(key)))
		}
		if sbit != 0 {
			v, st, err := sc.optString()
			if err != nil {
				return err
			}
			*ev.str(bit) = v
			ev.set(bit, st)
			continue
		}
		switch bit {
		case fScore:
			v, st, err := sc.optNumber()
			if err != nil {
				return err
			}
			ev.score = v
			ev.set(fScore, st)
		case fAutomatic:
			v, st, err := sc.optBool()
			if err != nil {
				return err
			}
			ev.automatic = v
			ev.set(fAutomatic, st)
		case fFile:
			ev.set(fFileName, stNull)
			ev.set(fFileContentType, stNull)
			ev.set(fFileSize, stNull)
			ev.fileName, ev.fileContentType, ev.fileSize = "", "", ""
			switch sc.peek() {
			case kindObject:
				ev.set(fFile, stOK)
				if err := ev.readFile(sc, n); err != nil {
					return err
				}
			case kindNull:
				ev.set(fFile, stNull)
				if err := sc.literal("null"); err != nil {
					return err
				}
			default:
				ev.set(fFile, stWrong)
				if err := sc.skip(); err != nil {
					return err
				}
			}
		default:
			if err := sc.skip(); err != nil {
				return err
			}
		}
	}
}

func (ev *evIn) readFile(sc *scanner, n int) error {
	sc.i++ // '{'
	var keys keySet
	for first := true; ; first = false {
		key, ok, err := sc.next(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		var bit uint32
		switch key {
		case "name":
			bit = uint32(fFileName)
		case "contentType":
			bit = uint32(fFileContentType)
		case "size":
			bit = uint32(fFileSize)
		}
		if bit != 0 && keys.seenBit(bit) || bit == 0 && keys.seenOther(key) {
			return dupKey(fmt.Sprintf("events[%d].file.%s", n, clip(key)))
		}
		switch key {
		case "name", "contentType":
			bit := fFileName
			if key == "contentType" {
				bit = fFileContentType
			}
			v, st, err := sc.optString()
			if err != nil {
				return err
			}
			*ev.str(bit) = v
			ev.set(bit, st)
		case "size":
			v, st, err := sc.optNumber()
			if err != nil {
				return err
			}
			ev.fileSize = v
			ev.set(fFileSize, st)
		default:
			if err := sc.skip(); err != nil {
				return err
			}
		}
	}
}

// toEvent checks ev against the rules of its type and fills e. n is the
// event's index in the input.
func (ev *evIn) toEvent(e *Event, n int) error {
	field := func(name string) string { return fmt.Sprintf("events[%d].%s", n, name) }
	// needString returns the error for a required string field, if any.
	needString := func(bit uint16, name string, forType bool) error {
		switch {
		case ev.bad&bit != 0:
			return errf(field(name), "must be a string")
		case (ev.has&bit == 0 || *ev.str(bit) == "") && forType:
			return errf(field(name), "is required for %s", clip(ev.typ))
		case ev.has&bit == 0 || *ev.str(bit) == "":
			return errf(field(name), "is required")
		}
		return nil
	}
	// present is needString for the fields rule 7 lets be "": only absent,
	// null or the wrong type is an error.
	present := func(bit uint16, name string, forType bool) error {
		switch {
		case ev.bad&bit != 0:
			return errf(field(name), "must be a string")
		case ev.has&bit == 0 && forType:
			return errf(field(name), "is required for %s", clip(ev.typ))
		case ev.has&bit == 0:
			return errf(field(name), "is required")
		}
		return nil
	}
	if err := needString(fAt, "at", false); err != nil {
		return err
	}
	at, msg := parseTime(ev.at)
	if msg != "" {
		return errf(field("at"), "%q %s", clip(ev.at), msg)
	}
	if err := needString(fType, "type", false); err != nil {
		return err
	}
	if ev.bad&fParticipant != 0 {
		return errf(field("participant"), "must be a string")
	}
	if ev.has&fParticipant != 0 && ev.participant == "" {
		return errf(field("participant"), "must not be empty")
	}
	e.At, e.Participant, e.P = at, ev.participant, -1
	e.Type = ParseEventType(ev.typ)
	if e.Type == EventUnknown {
		e.RawType = ev.typ
		return nil
	}
	needParticipant := func() error {
		if ev.has&fParticipant == 0 {
			return errf(field("participant"), "is required for %s", ev.typ)
		}
		return nil
	}
	automatic := func() error {
		if ev.bad&fAutomatic != 0 {
			return errf(field("automatic"), "must be true or false")
		}
		e.Automatic = ev.automatic
		return nil
	}
	reason := func(allowed map[string]bool, list string) error {
		if ev.bad&fReason != 0 {
			return errf(field("reason"), "must be a string")
		}
		if ev.has&fReason != 0 && !allowed[ev.reason] {
			return errf(field("reason"), "%q is not one of %s", clip(ev.reason), list)
		}
		e.Reason = ev.reason
		return nil
	}
	switch e.Type {
	case EventMessage:
		if err := needParticipant(); err != nil {
			return err
		}
		if err := present(fText, "text", true); err != nil {
			return err
		}
		e.Text = ev.text
		return automatic()
	case EventAttachment:
		if err := needParticipant(); err != nil {
			return err
		}
		switch {
		case ev.bad&fFile != 0:
			return errf(field("file"), "must be an object")
		case ev.has&fFile == 0:
			return errf(field("file"), "is required for %s", ev.typ)
		}
		if err := present(fFileName, "file.name", false); err != nil {
			return err
		}
		if err := present(fFileContentType, "file.contentType", false); err != nil {
			return err
		}
		if ev.has&fFileSize == 0 && ev.bad&fFileSize == 0 {
			return errf(field("file.size"), "is required")
		}
		size, ok := nonNegInt(ev.fileSize)
		if ev.bad&fFileSize != 0 || !ok {
			if ev.bad&fFileSize == 0 && ev.fileSize[0] != '-' && !containsAny(ev.fileSize, ".eE") {
				return errf(field("file.size"), "is too large")
			}
			return errf(field("file.size"), "must be a non-negative integer")
		}
		e.File = &File{Name: ev.fileName, ContentType: ev.fileContentType, Size: size}
		return automatic()
	case EventJoined:
		return needParticipant()
	case EventLeft:
		if err := needParticipant(); err != nil {
			return err
		}
		return reason(leftReasons, "quit, disconnect")
	case EventEnded:
		return reason(endedReasons, "quit, disconnect, force, inactive, error")
	case EventTicket:
		if err := needString(fTicket, "ticket", true); err != nil {
			return err
		}
		e.Ticket = ev.ticket
	case EventMarker:
		if err := needString(fMarker, "marker", true); err != nil {
			return err
		}
		e.Marker = ev.marker
	case EventPage:
		if err := needString(fURL, "url", true); err != nil {
			return err
		}
		e.URL = ev.url
	case EventRating:
		switch {
		case ev.has&fScore == 0 && ev.bad&fScore == 0:
			return errf(field("score"), "is required for rating")
		case ev.bad&fScore != 0 || len(ev.score) != 1 || ev.score[0] < '1' || ev.score[0] > '5':
			return errf(field("score"), "must be an integer from 1 to 5")
		}
		e.Score = int(ev.score[0] - '0')
		if ev.bad&fComment != 0 {
			return errf(field("comment"), "must be a string")
		}
		e.Comment = ev.comment
	}
	return nil
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}
