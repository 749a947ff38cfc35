// Package formats turns each chat platform's own conversation JSON (Zendesk
// Chat, Chatwoot, Rocket.Chat, LiveChat, Intercom, Genesys Cloud, Bot
// Framework, Amazon Connect) into transcript v1. It is pure: bytes in, a
// normalised transcript and the platform's own per-chat figures out, no I/O.
// Fetching lives in package sources.
package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/transcript"
)

// Decoded is what a format makes of one conversation.
type Decoded struct {
	// Transcript is normalised (transcript.Normalize has run).
	Transcript *transcript.Transcript
	// Figures is the platform's own per-chat figures, unchanged (its field
	// names, nesting and units) inside an object with "platform": <name>, as
	// the card's platformFigures holds them; nil when the platform reports none.
	Figures json.RawMessage
	// FirstReplyMs is the platform's own first-response figure in
	// milliseconds, when it has one (the sessions report's platformFirstReplyMs).
	FirstReplyMs *int64
}

// Format is one input format.
type Format struct {
	Name string // as `-format` and SOURCES "kind" spell it: "zendesk", "v1", ...
	// Decode reads one conversation in this format.
	Decode func(data []byte) (*Decoded, error)
	// Detect reports whether data looks like this format by its fields; only
	// called on valid JSON. Formats that cannot be told apart return false.
	Detect func(data []byte) bool
}

var registry = map[string]Format{}

// register is called from each format's init.
func register(f Format) {
	if _, dup := registry[f.Name]; dup {
		panic("formats: registered twice: " + f.Name)
	}
	registry[f.Name] = f
}

func init() {
	register(Format{Name: "v1", Decode: wrap(transcript.DecodeV1)})
	register(Format{Name: "connect", Decode: wrap(transcript.DecodeConnect)})
}

func wrap(dec func([]byte) (*transcript.Transcript, error)) func([]byte) (*Decoded, error) {
	return func(b []byte) (*Decoded, error) {
		t, err := dec(b)
		if err != nil {
			return nil, err
		}
		return &Decoded{Transcript: t}, nil
	}
}

// Names lists every format name, sorted.
func Names() []string {
	n := make([]string, 0, len(registry))
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Lookup returns the named format.
func Lookup(name string) (Format, bool) {
	f, ok := registry[name]
	return f, ok
}

// Decode reads data in the named format; "auto" (or "") tells the format
// apart by its fields and returns the name it chose.
func Decode(name string, data []byte) (*Decoded, string, error) {
	if name == "" || name == "auto" {
		n, err := Detect(data)
		if err != nil {
			return nil, "", err
		}
		name = n
	}
	f, ok := registry[name]
	if !ok {
		return nil, "", fmt.Errorf("formats: unknown format %q (one of auto, %s)", name, strings.Join(Names(), ", "))
	}
	d, err := f.Decode(data)
	return d, name, err
}

// Detect names the format of data: transcript v1 and Amazon Connect by
// transcript.Decode's rules, else the one platform format whose Detect
// accepts it. None or more than one is an error, never a guess.
func Detect(data []byte) (string, error) {
	if !json.Valid(data) {
		// transcript.Decode gives the precise JSON error.
		_, err := transcript.Decode(data)
		if err == nil {
			err = fmt.Errorf("formats: not JSON")
		}
		return "", err
	}
	var hits []string
	for _, name := range Names() {
		if f := registry[name]; f.Detect != nil && f.Detect(data) {
			hits = append(hits, name)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		// v1 or Connect, or the transcript package's error naming both.
		if _, err := transcript.Decode(data); err != nil {
			// Every Detect reads strictly, so a platform document with a
			// duplicate key anywhere fits none of them; "neither v1 nor
			// Connect" would hide the fault. Name it, with its place.
			if _, jerr := jsontext.NewDecoder(bytes.NewReader(data)).ReadValue(); jerr != nil {
				return "", fmt.Errorf("formats: %w", jerr)
			}
			return "", err
		}
		if _, err := transcript.DecodeV1(data); err == nil {
			return "v1", nil
		}
		return "connect", nil
	}
	return "", fmt.Errorf("formats: cannot tell the format apart: it looks like %s; give -format", strings.Join(hits, " and "))
}
