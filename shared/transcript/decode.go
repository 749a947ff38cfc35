package transcript

import (
	"fmt"
	"unicode/utf8"
)

// Decode reads a transcript in either format a source may hold, telling them
// apart by their top-level field names (which match exactly): transcript v1
// has lowercase version, sessionId, participants, events; an Amazon Connect
// transcript has Version, ContactId, InitialContactId, Transcript,
// Participants. Any one of them picks the format, so a document missing a
// required field still gets that format's precise error. A document with
// fields of both, or of neither, is refused rather than guessed at.
// A top-level key given twice is refused here already (with the same error
// the decoder would give); nested ones by the decoder.
func Decode(data []byte) (*Transcript, error) {
	if !utf8.Valid(data) {
		return nil, &Error{Msg: "not JSON: invalid UTF-8"}
	}
	v1, connect, err := sniff(string(data))
	if err != nil {
		return nil, err
	}
	switch {
	case v1 && connect:
		return nil, &Error{Msg: "has fields of both transcript v1 (version, sessionId, participants, events) and Amazon Connect (Version, ContactId, Transcript, …)"}
	case v1:
		return DecodeV1(data)
	case connect:
		return DecodeConnect(data)
	}
	return nil, &Error{Msg: "is neither transcript v1 (no version, sessionId, participants or events) nor an Amazon Connect transcript (no Version, ContactId, Transcript, …)"}
}

// sniff looks at the top-level keys only, validating the whole document on
// the way so that a broken one gets the JSON error.
func sniff(s string) (v1, connect bool, err error) {
	// shallow: nested objects are checked for duplicate keys by the
	// decoder this hands over to; the top level is checked here, so that
	// Decode and the decoders agree.
	sc := &scanner{s: s, shallow: true}
	if k := sc.peek(); k != kindObject {
		if k == kindInvalid || k == kindEOF {
			return false, false, sc.skip()
		}
		return false, false, &Error{Msg: fmt.Sprintf("a transcript is a JSON object, not %s", k)}
	}
	sc.i++
	var keys keySet
	for first := true; ; first = false {
		key, ok, err := sc.next(first)
		if err != nil {
			return false, false, err
		}
		if !ok {
			break
		}
		if keys.seen(v1TopBit(key)|connectTopBit(key)<<8, key) {
			return false, false, dupKey(clip(key))
		}
		switch key {
		case "version", "sessionId", "participants", "events":
			v1 = true
		case "Version", "ContactId", "InitialContactId", "Transcript", "Participants":
			connect = true
		}
		if err := sc.skip(); err != nil {
			return false, false, err
		}
	}
	return v1, connect, sc.end()
}
