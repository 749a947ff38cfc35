package transcript

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ConnectVersion is the only Amazon Connect chat transcript version read.
const ConnectVersion = "2019-08-26"

const connectEventPrefix = "application/vnd.amazonaws.connect.event."

// DecodeConnect reads one Amazon Connect chat transcript object (the JSON
// Connect writes to S3 for each chat contact) and returns it as a normalised
// transcript v1.
//
// Mapping choices where sources.md is silent:
//   - SessionID is InitialContactId when present, else ContactId.
//   - Channel, Tenant and Language stay empty: the object does not say them
//     (the contact record does, but that is another document).
//   - Participants are those seen in the items, in order of first
//     appearance; the first item naming a ParticipantId decides its role
//     (ParticipantRole) and name (DisplayName). Ids listed only in the
//     top-level Participants are dropped: their role is unknown there, and
//     someone who never appears in the transcript took no part.
//   - An ATTACHMENT item gives one attachment event per entry of its
//     Attachments, with Size 0: Connect transcripts do not record sizes.
//   - An item of a type other than MESSAGE, ATTACHMENT and EVENT, and an
//     EVENT other than participant.joined/left and chat.ended, becomes an
//     unknown event whose RawType is the ContentType (else the Type), keeping
//     its participant; should that name spell a v1 type it gets a "connect:"
//     prefix, so writing the transcript as v1 cannot make it known. No
//     "started" event is made up.
//   - Fields are checked only where used: Content for MESSAGE, Attachments
//     for ATTACHMENT. A MESSAGE without Content (absent, null or "") is a
//     line of size 0. An attachment's AttachmentName and ContentType must be
//     there but may be "", as file.name and file.contentType may in v1.
//     Version must be 2019-08-26, since another version may mean another
//     shape.
//   - A key given twice in one object is refused, as in v1, whatever the
//     object (top level, Transcript[i], Transcript[i].Attachments[j], or a
//     skipped value such as Participants) and whether or not we read the
//     key: `Transcript[2].Content: duplicate key`. Keys are compared after
//     unescaping. An item's Attachments are read only for ATTACHMENT items,
//     but are checked (as a skipped value) for every item.
//
// Errors name the Connect field, e.g. Transcript[4].AbsoluteTime.
func DecodeConnect(data []byte) (*Transcript, error) {
	doc, err := decodeConnectDoc(data, "")
	if err != nil {
		return nil, err
	}
	t := &Transcript{
		Version:      1,
		SessionID:    doc.sessionID(),
		Participants: doc.participants,
		Events:       doc.events,
	}
	if err := t.Normalize(); err != nil {
		return nil, err
	}
	return t, nil
}

// MergeConnect reads the Connect objects of one widget session — a transfer
// creates a new contact with the same InitialContactId, and each contact has
// its own object — and merges them into one normalised transcript whose
// SessionID is sessionID. Every document must have sessionID as its
// InitialContactId or ContactId.
//
// Participants are the union (first seen wins, documents taken in order of
// their first item's time); events are merged in time order, an item Id seen
// in an earlier document is not repeated. Every contact closes with its own
// chat.ended, so only the latest ended event is kept: otherwise the merged
// session would end at the first transfer and everything after it would be
// ignored (rule 5). Errors name the document, e.g. docs[1].Transcript[4].Type.
func MergeConnect(sessionID string, docs [][]byte) (*Transcript, error) {
	if len(docs) == 0 {
		return nil, errf("docs", "no Connect transcript to merge")
	}
	parsed := make([]*connectDoc, len(docs))
	for k, data := range docs {
		prefix := fmt.Sprintf("docs[%d].", k)
		doc, err := decodeConnectDoc(data, prefix)
		if err != nil {
			return nil, err
		}
		if doc.initialContactID != sessionID && doc.contactID != sessionID {
			return nil, errf(prefix+"ContactId", "neither InitialContactId nor ContactId is the session %q", clip(sessionID))
		}
		parsed[k] = doc
	}
	slices.SortStableFunc(parsed, func(a, b *connectDoc) int { return cmp.Compare(a.firstAt(), b.firstAt()) })

	t := &Transcript{Version: 1, SessionID: sessionID}
	seenP := map[string]bool{}
	seenItem := map[string]bool{}
	for _, doc := range parsed {
		for _, p := range doc.participants {
			if !seenP[p.ID] {
				seenP[p.ID] = true
				t.Participants = append(t.Participants, p)
			}
		}
		for i, e := range doc.events {
			// Checked against earlier documents only: one ATTACHMENT item
			// gives several events with the same id.
			if id := doc.itemIDs[i]; id != "" && seenItem[id] {
				continue
			}
			t.Events = append(t.Events, e)
		}
		for _, id := range doc.itemIDs {
			if id != "" {
				seenItem[id] = true
			}
		}
	}
	stableSortByAt(t.Events)
	last := -1
	for i := range t.Events {
		if t.Events[i].Type == EventEnded {
			last = i
		}
	}
	kept := t.Events[:0]
	for i, e := range t.Events {
		if e.Type != EventEnded || i == last {
			kept = append(kept, e)
		}
	}
	t.Events = kept
	if err := t.Normalize(); err != nil {
		return nil, err
	}
	return t, nil
}

type connectDoc struct {
	initialContactID, contactID string
	participants                []Participant
	events                      []Event
	itemIDs                     []string // parallel to events
}

func (d *connectDoc) sessionID() string {
	if d.initialContactID != "" {
		return d.initialContactID
	}
	return d.contactID
}

func (d *connectDoc) firstAt() int64 {
	if len(d.events) == 0 {
		return maxMillis
	}
	return slices.MinFunc(d.events, func(a, b Event) int { return cmp.Compare(a.At, b.At) }).At
}

func decodeConnectDoc(data []byte, prefix string) (*connectDoc, error) {
	if !utf8.Valid(data) {
		return nil, &Error{Field: strings.TrimSuffix(prefix, "."), Msg: "not JSON: invalid UTF-8"}
	}
	sc := &scanner{s: string(data)}
	doc, err := readConnect(sc, prefix)
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		if e, ok := err.(*Error); ok && e.Field == "" && prefix != "" {
			e.Field = strings.TrimSuffix(prefix, ".")
		}
		return nil, err
	}
	return doc, nil
}

func readConnect(sc *scanner, prefix string) (*connectDoc, error) {
	if k := sc.peek(); k != kindObject {
		if k == kindInvalid || k == kindEOF {
			return nil, sc.skip()
		}
		return nil, &Error{Msg: fmt.Sprintf("a Connect transcript is a JSON object, not %s", k)}
	}
	sc.i++
	doc := &connectDoc{}
	var version string
	var haveTranscript bool
	pi := map[string]int{}
	var keys keySet
	for first := true; ; first = false {
		key, ok, err := sc.next(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if keys.seen(connectTopBit(key), key) {
			return nil, dupKey(prefix + clip(key))
		}
		switch key {
		case "Version", "InitialContactId", "ContactId":
			v, st, err := sc.optString()
			if err != nil {
				return nil, err
			}
			if st == stWrong {
				return nil, errf(prefix+key, "must be a string")
			}
			switch key {
			case "Version":
				version = v
			case "InitialContactId":
				doc.initialContactID = v
			default:
				doc.contactID = v
			}
		case "Transcript":
			switch sc.peek() {
			case kindArray:
				haveTranscript = true
				doc.participants, doc.events, doc.itemIDs = nil, nil, nil
				clear(pi)
				if err := doc.readItems(sc, prefix, pi); err != nil {
					return nil, err
				}
			case kindNull:
				haveTranscript = false
				if err := sc.literal("null"); err != nil {
					return nil, err
				}
			default:
				if err := sc.skip(); err != nil {
					return nil, err
				}
				return nil, errf(prefix+"Transcript", "must be an array")
			}
		default:
			// Participants (ids only), AWSAccountId, InstanceId and anything
			// newer: validated as JSON, not used.
			if err := sc.skip(); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case version == "":
		return nil, errf(prefix+"Version", "is required")
	case version != ConnectVersion:
		return nil, errf(prefix+"Version", "%q is not the supported %s", clip(version), ConnectVersion)
	case doc.contactID == "":
		return nil, errf(prefix+"ContactId", "is required")
	case !ValidSessionID(doc.contactID):
		return nil, errf(prefix+"ContactId", "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")
	case doc.initialContactID != "" && !ValidSessionID(doc.initialContactID):
		return nil, errf(prefix+"InitialContactId", "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")
	case !haveTranscript:
		return nil, errf(prefix+"Transcript", "is required")
	}
	return doc, nil
}

// connectTopBit maps a top-level key of a Connect transcript to its bit in
// a keySet, the ones not read included so that a usual document needs no
// other bookkeeping.
func connectTopBit(key string) uint32 {
	switch key {
	case "Version":
		return 1 << 0
	case "InitialContactId":
		return 1 << 1
	case "ContactId":
		return 1 << 2
	case "Transcript":
		return 1 << 3
	case "Participants":
		return 1 << 4
	case "AWSAccountId":
		return 1 << 5
	case "InstanceId":
		return 1 << 6
	}
	return 0
}

// Bits of an item's keySet for the keys read other than into a string.
const (
	itemContent     = 1 << 7
	itemAttachments = 1 << 8
)

type connectItem struct {
	absoluteTime, id, typ, contentType, content string
	participantID, displayName, role            string
	contentBad                                  bool
	attachments                                 string // raw JSON, read only for ATTACHMENT
}

func (doc *connectDoc) readItems(sc *scanner, prefix string, pi map[string]int) error {
	sc.i++ // '['
	// Sized up front as in decodeEvents; an item with a valid time is over
	// 40 bytes.
	rest := sc.s[sc.i:]
	est := min(strings.Count(rest, `"AbsoluteTime"`), len(rest)/40)
	doc.events, doc.itemIDs = make([]Event, 0, est), make([]string, 0, est)
	for n, first := 0, true; ; n, first = n+1, false {
		ok, err := sc.elem(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		field := itemField{prefix, n}
		if k := sc.peek(); k != kindObject {
			if err := sc.skip(); err != nil {
				return err
			}
			return errf(field.at(""), "must be an object, not %s", k)
		}
		sc.i++
		var it connectItem
		var keys keySet
		for first := true; ; first = false {
			key, ok, err := sc.next(first)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			var dst *string
			var bit uint32
			switch key {
			case "AbsoluteTime":
				dst, bit = &it.absoluteTime, 1<<0
			case "Id":
				dst, bit = &it.id, 1<<1
			case "Type":
				dst, bit = &it.typ, 1<<2
			case "ContentType":
				dst, bit = &it.contentType, 1<<3
			case "ParticipantId":
				dst, bit = &it.participantID, 1<<4
			case "DisplayName":
				dst, bit = &it.displayName, 1<<5
			case "ParticipantRole":
				dst, bit = &it.role, 1<<6
			case "Content":
				bit = itemContent
			case "Attachments":
				bit = itemAttachments
			}
			if bit != 0 && keys.seenBit(bit) || bit == 0 && keys.seenOther(key) {
				return dupKey(field.at("." + clip(key)))
			}
			switch bit {
			case itemContent:
				v, st, err := sc.optString()
				if err != nil {
					return err
				}
				it.content, it.contentBad = v, st == stWrong
				continue
			case itemAttachments:
				// Shallow: connectAttachments or addItem checks the
				// keys inside, with the field path.
				start := sc.i
				sc.shallow = true
				err := sc.skip()
				sc.shallow = false
				if err != nil {
					return err
				}
				it.attachments = sc.s[start:sc.i]
				continue
			}
			if dst == nil {
				if err := sc.skip(); err != nil {
					return err
				}
				continue
			}
			v, st, err := sc.optString()
			if err != nil {
				return err
			}
			if st == stWrong {
				return errf(field.at("."+key), "must be a string")
			}
			*dst = v
		}
		if err := doc.addItem(&it, field, pi); err != nil {
			return err
		}
	}
}

// itemField names a field of Transcript[n] in errors; a value rather than a
// closure so the per-item path allocates nothing.
type itemField struct {
	prefix string
	n      int
}

func (f itemField) at(name string) string {
	return fmt.Sprintf("%sTranscript[%d]%s", f.prefix, f.n, name)
}

func (doc *connectDoc) addItem(it *connectItem, field itemField, pi map[string]int) error {
	if it.absoluteTime == "" {
		return errf(field.at(".AbsoluteTime"), "is required")
	}
	at, msg := parseTime(it.absoluteTime)
	if msg != "" {
		return errf(field.at(".AbsoluteTime"), "%q %s", clip(it.absoluteTime), msg)
	}
	if it.typ == "" {
		return errf(field.at(".Type"), "is required")
	}
	if it.participantID != "" {
		if _, seen := pi[it.participantID]; !seen {
			role, ok := connectRole(it.role, it.displayName)
			if !ok {
				if it.role == "" {
					return errf(field.at(".ParticipantRole"), "is required with a ParticipantId")
				}
				return errf(field.at(".ParticipantRole"), "unknown role %q", clip(it.role))
			}
			pi[it.participantID] = len(doc.participants)
			doc.participants = append(doc.participants, Participant{ID: it.participantID, Role: role, Name: it.displayName})
		}
	}
	e := Event{At: at, Participant: it.participantID, P: -1}
	needParticipant := func() error {
		if it.participantID == "" {
			return errf(field.at(".ParticipantId"), "is required for %s", it.typ)
		}
		return nil
	}
	if it.typ != "ATTACHMENT" && it.attachments != "" {
		// Not read, but a duplicate key is refused wherever it is.
		if err := (&scanner{s: it.attachments}).skip(); err != nil {
			if e, ok := err.(*Error); ok && e.Field == "" {
				e.Field = field.at(".Attachments")
			}
			return err
		}
	}
	switch it.typ {
	case "MESSAGE":
		if err := needParticipant(); err != nil {
			return err
		}
		if it.contentBad {
			return errf(field.at(".Content"), "must be a string")
		}
		// No Content, null or "" is a line of size 0 (sources.md, rule 7):
		// Connect writes such lines for buttons and cards.
		e.Type, e.Text = EventMessage, it.content
	case "ATTACHMENT":
		if err := needParticipant(); err != nil {
			return err
		}
		files, err := connectAttachments(it.attachments, field)
		if err != nil {
			if e, ok := err.(*Error); ok && e.Field == "" {
				e.Field = field.at(".Attachments")
			}
			return err
		}
		e.Type = EventAttachment
		for i := range files {
			e.File = &files[i]
			doc.events = append(doc.events, e)
			doc.itemIDs = append(doc.itemIDs, it.id)
		}
		return nil
	case "EVENT":
		switch strings.TrimPrefix(it.contentType, connectEventPrefix) {
		case "participant.joined":
			e.Type = EventJoined
		case "participant.left":
			e.Type = EventLeft
		case "chat.ended":
			e.Type = EventEnded
		}
		if e.Type == EventJoined || e.Type == EventLeft {
			if err := needParticipant(); err != nil {
				return err
			}
		}
	}
	if e.Type == EventUnknown {
		e.RawType = cmp.Or(it.contentType, it.typ)
		if ParseEventType(e.RawType) != EventUnknown {
			// A Connect name that happens to spell a v1 type ("ended") must
			// not turn into that type when the transcript is written as v1.
			e.RawType = "connect:" + e.RawType
		}
	}
	doc.events = append(doc.events, e)
	doc.itemIDs = append(doc.itemIDs, it.id)
	return nil
}

// connectRole maps a ParticipantRole. A SYSTEM participant named BOT is the
// Amazon Lex bot of a contact flow.
func connectRole(role, displayName string) (Role, bool) {
	switch role {
	case "CUSTOMER":
		return RoleCustomer, true
	case "AGENT":
		return RoleAgent, true
	case "SUPERVISOR":
		return RoleSupervisor, true
	case "CUSTOM_BOT":
		return RoleBot, true
	case "SYSTEM":
		if displayName == "BOT" {
			return RoleBot, true
		}
		return RoleSystem, true
	}
	return RoleUnknown, false
}

// connectAttachments reads an item's Attachments array: [{AttachmentId,
// AttachmentName, ContentType, Status}, ...].
func connectAttachments(raw string, field itemField) ([]File, error) {
	if raw == "" || raw == "null" {
		return nil, errf(field.at(".Attachments"), "is required for ATTACHMENT")
	}
	sc := &scanner{s: raw}
	if sc.peek() != kindArray {
		return nil, errf(field.at(".Attachments"), "must be an array")
	}
	sc.i++
	var files []File
	for n, first := 0, true; ; n, first = n+1, false {
		ok, err := sc.elem(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		af := func(name string) string { return fmt.Sprintf("%s[%d]%s", field.at(".Attachments"), n, name) }
		if sc.peek() != kindObject {
			return nil, errf(af(""), "must be an object")
		}
		sc.i++
		var f File
		var haveName, haveType bool
		var keys keySet
		for first := true; ; first = false {
			key, ok, err := sc.next(first)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			var bit uint32
			switch key {
			case "AttachmentName":
				bit = 1 << 0
			case "ContentType":
				bit = 1 << 1
			case "AttachmentId":
				bit = 1 << 2
			case "Status":
				bit = 1 << 3
			}
			if bit != 0 && keys.seenBit(bit) || bit == 0 && keys.seenOther(key) {
				return nil, dupKey(af("." + clip(key)))
			}
			if key != "AttachmentName" && key != "ContentType" {
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
				return nil, errf(af("."+key), "must be a string")
			}
			if key == "AttachmentName" {
				f.Name, haveName = v, st == stOK
			} else {
				f.ContentType, haveType = v, st == stOK
			}
		}
		if !haveName {
			return nil, errf(af(".AttachmentName"), "is required")
		}
		if !haveType {
			return nil, errf(af(".ContentType"), "is required")
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, errf(field.at(".Attachments"), "is empty for ATTACHMENT")
	}
	return files, nil
}
