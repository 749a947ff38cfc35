package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Limits of a create body beyond the spec's (which sets only metadata and
// channel): generous for any real chatbot, small enough that a card stays
// far below the store's item size.
const (
	maxMetadataPairs = 32
	maxMetadataKey   = 64
	maxMetadataValue = 512
	maxChannel       = 64
	maxLanguage      = 35 // longest well-formed tag in practice (RFC 5646 §4.4.1)
	maxPerson        = 256
	maxName          = 256
	maxPages         = 100
	maxPageURL       = 2048
	// MaxTicket is the longest ticket id accepted by the tickets call;
	// service-desk ids are short (INC-20431), 128 leaves room for URLs' keys.
	MaxTicket = 128
)

// CreateRequest is the body of createChatSession. Pointers tell an absent
// field from a zero one.
type CreateRequest struct {
	SessionID *string           `json:"sessionId"`
	Customer  *Customer         `json:"customer"`
	Channel   *string           `json:"channel"`
	Language  *string           `json:"language"`
	Async     *bool             `json:"async"`
	StartedAt *string           `json:"startedAt"`
	Pages     []string          `json:"pages"`
	Metadata  map[string]string `json:"metadata"`
}

// Customer is who the chatbot is talking to.
type Customer struct {
	Person string `json:"person"`
	Name   string `json:"name"`
}

// DecodeCreate reads one JSON object from r into a CreateRequest, strictly
// (decodeStrict): names of another case, unknown or repeated fields, invalid
// UTF-8, null, wrong types and trailing data are errors naming the field. It
// does not check values; Validate does. Exported for the fuzz target and
// tests.
func DecodeCreate(r io.Reader) (*CreateRequest, error) {
	var req CreateRequest
	if err := decodeStrict(r, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// decodeCreate is DecodeCreate answering with a problem.
func decodeCreate(r io.Reader) (*CreateRequest, *problem) {
	req, err := DecodeCreate(r)
	if err != nil {
		p := decodeProblem(err)
		return nil, &p
	}
	return req, nil
}

type ticketRequest struct {
	Ticket *string `json:"ticket"`
}

func decodeTicket(r io.Reader) (string, *problem) {
	var req ticketRequest
	if err := decodeStrict(r, &req); err != nil {
		p := decodeProblem(err)
		return "", &p
	}
	var fe *FieldError
	switch {
	case req.Ticket == nil:
		fe = &FieldError{"ticket", "is required"}
	case *req.Ticket == "":
		fe = &FieldError{"ticket", "must not be empty"}
	default:
		fe = checkText("ticket", *req.Ticket, MaxTicket)
		if fe == nil && strings.TrimSpace(*req.Ticket) != *req.Ticket {
			// "INC-1 " and "INC-1" would otherwise become two tickets.
			fe = &FieldError{"ticket", "must not start or end with white space"}
		}
	}
	if fe != nil {
		p := invalid(*fe)
		return "", &p
	}
	return *req.Ticket, nil
}

// DecodeError is a body that could not be decoded; Field is "body" when it
// is not about one field.
type DecodeError struct {
	Field   string
	Message string
	// TooLarge is set when the body went over MaxBodyBytes while reading.
	TooLarge bool
}

func (e *DecodeError) Error() string { return e.Field + " " + e.Message }

// decodeStrict reads one JSON object from r into v the strict way the
// brief asks of all outside JSON: names match exactly (no case folding, so
// "SESSIONID" and "ſessionId" are unknown fields, not sessionId), a name
// appears once per object, strings are valid UTF-8, null is refused
// everywhere (an absent field is how a client says "none"), unknown fields
// are refused (spec api.md's error table) and nothing may follow the
// object. Every error is a DecodeError naming the field, or "body".
//
// Two passes: a token walk (jsontext) that finds syntax, duplicate, UTF-8
// and null problems with their JSON Pointer, then the v2 unmarshal, which
// adds unknown names and wrong types. The body is at most 64 KiB, so the
// second pass is cheap.
func decodeStrict(r io.Reader, v any) error {
	body, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &DecodeError{Field: "body", Message: "is larger than 64 KiB", TooLarge: true}
		}
		return &DecodeError{Field: "body", Message: "could not be read"}
	}
	if err := walkJSON(body); err != nil {
		return err
	}
	err = json.Unmarshal(body, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var se *json.SemanticError
	if !errors.As(err, &se) {
		return &DecodeError{Field: "body", Message: "is not valid JSON"}
	}
	field := fieldPath(se.JSONPointer)
	if errors.Is(se.Err, json.ErrUnknownName) {
		if field == "" {
			return &DecodeError{Field: "body", Message: "has a field with an empty name"}
		}
		return &DecodeError{Field: field, Message: "is not a known field"}
	}
	if field == "" {
		return &DecodeError{Field: "body", Message: "must be a JSON object"}
	}
	return &DecodeError{Field: field, Message: "must be " + goKind(se.GoType)}
}

// walkJSON checks the syntax of body token by token: one object, no
// duplicate names, valid UTF-8, no null, nothing after the object.
func walkJSON(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body)) // defaults: no duplicates, valid UTF-8 only
	tok, err := dec.ReadToken()
	if err != nil {
		return syntaxProblem(err)
	}
	if tok.Kind() != '{' {
		return &DecodeError{Field: "body", Message: "must be a JSON object"}
	}
	for dec.StackDepth() > 0 {
		tok, err := dec.ReadToken()
		if err != nil {
			return syntaxProblem(err)
		}
		if tok.Kind() == 'n' {
			// StackPointer names the member or element just read.
			if f := fieldPath(dec.StackPointer()); f != "" {
				return &DecodeError{Field: f, Message: "must not be null; leave the field out instead"}
			}
			return &DecodeError{Field: "body", Message: "has a field with an empty name"}
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return &DecodeError{Field: "body", Message: "has data after the JSON object"}
	}
	return nil
}

// syntaxProblem names the field a jsontext error is about.
func syntaxProblem(err error) error {
	if errors.Is(err, io.EOF) {
		return &DecodeError{Field: "body", Message: "is empty; a JSON object is required"}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &DecodeError{Field: "body", Message: "is not valid JSON: it ends too early"}
	}
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return &DecodeError{Field: "body", Message: "is not valid JSON"}
	}
	field := fieldPath(se.JSONPointer)
	if field == "" {
		field = "body"
	}
	// jsontext exports no error values for bad UTF-8 or escapes; their
	// texts are stable and tested here (TestErrorTable).
	text := ""
	if se.Err != nil {
		text = se.Err.Error()
	}
	switch {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		if field == "body" {
			return &DecodeError{Field: "body", Message: "has a field with an empty name more than once"}
		}
		return &DecodeError{Field: field, Message: "appears more than once"}
	case strings.Contains(text, "invalid UTF-8"):
		return &DecodeError{Field: field, Message: "is not valid UTF-8"}
	case strings.Contains(text, "surrogate"):
		return &DecodeError{Field: field, Message: "has a \\u escape that is not a character (lone surrogate)"}
	case strings.Contains(text, "max depth"):
		return &DecodeError{Field: "body", Message: "nests objects or arrays too deeply"}
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return &DecodeError{Field: "body", Message: "is not valid JSON: it ends too early"}
	}
	return &DecodeError{Field: field, Message: fmt.Sprintf("is not valid JSON (at byte %d)", se.ByteOffset)}
}

// arrayFields are the request fields whose members are array elements,
// written pages[0] rather than pages.0.
var arrayFields = map[string]bool{"pages": true}

// maxFieldName caps an echoed field name: a client's 60 KiB key is not
// worth sending back.
const maxFieldName = 64

// fieldPath turns a JSON Pointer into the field names the API reports:
// "/customer/name" → "customer.name", "/pages/0" → "pages[0]". "" is the
// whole body.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		switch {
		case arrayFields[b.String()] && isIndex(tok):
			b.WriteString("[" + tok + "]")
		case b.Len() == 0:
			b.WriteString(tok)
		default:
			b.WriteString("." + tok)
		}
	}
	return truncate(b.String(), maxFieldName)
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// goKind names the JSON type a Go type expects, in the caller's words.
func goKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array of strings"
	}
	return "of another type"
}

func decodeProblem(err error) problem {
	var de *DecodeError
	if errors.As(err, &de) {
		if de.TooLarge {
			return tooLarge()
		}
		return invalid(FieldError{de.Field, de.Message})
	}
	return invalid(FieldError{"body", "is not valid JSON"})
}

// checkText checks a one-line text field: at most max characters (code
// points) and no control characters.
func checkText(field, s string, max int) *FieldError {
	if n := utf8.RuneCountInString(s); n > max {
		return &FieldError{field, fmt.Sprintf("is longer than %d characters", max)}
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return &FieldError{field, "must not contain control characters"}
		}
	}
	return nil
}

// plausibleLanguage accepts the shape of a BCP 47 tag: a 2–8 letter primary
// subtag (or the private-use "x" / grandfathered "i"), then subtags of 1–8
// letters or digits. Whether the subtags are registered is not checked: a
// chatbot's tag is stored, never interpreted.
func plausibleLanguage(s string) bool {
	if len(s) == 0 || len(s) > maxLanguage {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if len(sub) == 0 || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j]
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			digit := c >= '0' && c <= '9'
			if i == 0 && !letter || !letter && !digit {
				return false
			}
		}
		if i == 0 && len(sub) == 1 && sub != "x" && sub != "X" && sub != "i" && sub != "I" {
			return false
		}
	}
	return true
}

// Validate checks every field and returns all problems at once, so a client
// fixes its request in one round.
func (req *CreateRequest) Validate() []FieldError {
	var errs []FieldError
	add := func(fe *FieldError) {
		if fe != nil {
			errs = append(errs, *fe)
		}
	}
	if req.SessionID == nil {
		add(&FieldError{"sessionId", "is required"})
	} else {
		add(sessionID("sessionId", *req.SessionID))
	}
	if c := req.Customer; c != nil {
		add(checkText("customer.person", c.Person, maxPerson))
		add(checkText("customer.name", c.Name, maxName))
	}
	if req.Channel != nil {
		add(checkText("channel", *req.Channel, maxChannel))
	}
	if req.Language != nil && !plausibleLanguage(*req.Language) {
		add(&FieldError{"language", "must be a BCP 47 language tag such as en or pt-BR"})
	}
	if req.StartedAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *req.StartedAt)
		switch {
		case err != nil:
			add(&FieldError{"startedAt", "must be an RFC 3339 time such as 2026-11-20T09:00:00Z"})
		case t.UTC().Year() < 1 || t.UTC().Year() > 9999:
			// An offset can push year 0000 or 9999 out of the UTC range.
			add(&FieldError{"startedAt", "must be between years 0001 and 9999 in UTC"})
		}
	}
	if len(req.Pages) > maxPages {
		add(&FieldError{"pages", fmt.Sprintf("has more than %d entries", maxPages)})
	} else {
		for i, p := range req.Pages {
			f := fmt.Sprintf("pages[%d]", i)
			if p == "" {
				add(&FieldError{f, "must not be empty"})
				continue
			}
			add(checkText(f, p, maxPageURL))
		}
	}
	if len(req.Metadata) > maxMetadataPairs {
		add(&FieldError{"metadata", fmt.Sprintf("has more than %d pairs", maxMetadataPairs)})
	} else {
		keys := make([]string, 0, len(req.Metadata))
		for k := range req.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys) // errors in a stable order
		for _, k := range keys {
			if k == "" {
				add(&FieldError{"metadata", "keys must not be empty"})
				continue
			}
			if fe := checkText("metadata", k, maxMetadataKey); fe != nil {
				add(&FieldError{"metadata", "key " + strconv.Quote(truncate(k, 16)) + " " + fe.Message})
				continue
			}
			if utf8.RuneCountInString(req.Metadata[k]) > maxMetadataValue {
				add(&FieldError{"metadata." + k, fmt.Sprintf("is longer than %d characters", maxMetadataValue)})
			}
		}
	}
	return errs
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// card builds the new card; startedAt defaults to now.
func (req *CreateRequest) card(folder string, now time.Time) (*card.Card, []FieldError) {
	if errs := req.Validate(); len(errs) > 0 {
		return nil, errs
	}
	started := now
	if req.StartedAt != nil {
		started, _ = time.Parse(time.RFC3339Nano, *req.StartedAt) // validated
	}
	nowText := transcript.FormatMillis(now.UnixMilli())
	c := card.New(folder, *req.SessionID, transcript.FormatMillis(started.UnixMilli()))
	c.CreatedAt = nowText
	c.UpdatedAt = nowText
	if req.Customer != nil {
		c.Customer = req.Customer.Person
		c.CustomerName = req.Customer.Name
	}
	if req.Channel != nil {
		c.Channel = *req.Channel
	}
	if req.Language != nil {
		c.Language = *req.Language
	}
	if req.Async != nil {
		c.Async = *req.Async
	}
	seen := make(map[string]bool, len(req.Pages))
	for _, p := range req.Pages {
		if !seen[p] { // the card keeps distinct pages in first-seen order
			seen[p] = true
			c.Pages = append(c.Pages, p)
		}
	}
	if len(req.Metadata) > 0 {
		c.Metadata = req.Metadata
	}
	return c, nil
}
