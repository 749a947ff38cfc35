package formats

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Zendesk Chat: one chat object as GET /api/v2/chats/{chat_id} answers it
// (docs/sources/zendesk.md has the field-by-field mapping and its sources).

func init() {
	register(Format{Name: "zendesk", Decode: DecodeZendesk, Detect: detectZendesk})
}

type zdChat struct {
	ID              *string        `json:"id"`
	Type            *string        `json:"type"`
	Visitor         *zdVisitor     `json:"visitor"`
	Timestamp       *string        `json:"timestamp"`
	EndTimestamp    *string        `json:"end_timestamp"`
	History         []zdItem       `json:"history"`
	Webpath         []zdPage       `json:"webpath"`
	ResponseTime    jsontext.Value `json:"response_time"`
	Rating          *string        `json:"rating"`
	Comment         *string        `json:"comment"`
	ZendeskTicketID *int64         `json:"zendesk_ticket_id"`
}

type zdVisitor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type zdItem struct {
	Type       string         `json:"type"`
	Timestamp  *string        `json:"timestamp"`
	Name       string         `json:"name"`
	Nick       string         `json:"nick"`
	SenderType string         `json:"sender_type"`
	AgentID    jsontext.Value `json:"agent_id"`
	Msg        *string        `json:"msg"`
	Attachment *zdAttachment  `json:"attachment"`
}

type zdAttachment struct {
	Name     *string `json:"name"`
	MimeType *string `json:"mime_type"`
	Size     *int64  `json:"size"`
}

type zdPage struct {
	To        *string `json:"to"`
	Timestamp *string `json:"timestamp"`
}

// DecodeZendesk maps one Zendesk Chat chat object to transcript v1.
func DecodeZendesk(data []byte) (*Decoded, error) {
	var c zdChat
	if err := strictjson.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("zendesk: %w", err)
	}
	if c.ID == nil || *c.ID == "" {
		return nil, fmt.Errorf("zendesk: id: is required")
	}
	if !transcript.ValidSessionID(*c.ID) {
		return nil, fmt.Errorf("zendesk: id: %q is not a valid sessionId (1 to 128 characters of A-Z a-z 0-9 . _ : -)", clipText(*c.ID))
	}
	if c.Type != nil && *c.Type != "chat" {
		return nil, fmt.Errorf("zendesk: type: %q is not a chat (offline messages have no conversation)", clipText(*c.Type))
	}
	b := newBuilder("zendesk", *c.ID)
	visitorName, visitorPerson := "", ""
	if c.Visitor != nil {
		visitorName, visitorPerson = c.Visitor.Name, c.Visitor.ID
	}
	if c.Timestamp != nil {
		at, err := parseRFC3339("timestamp", *c.Timestamp)
		if err != nil {
			return nil, b.wrap(err)
		}
		b.add(transcript.Event{At: at, Type: transcript.EventStarted})
	}
	var (
		lastLeave   string // participant of the last chat.memberleave
		lastLeaveAt int64
		lastLineAt  = int64(math.MinInt64) // the last chat line of anyone
		ratedAt     *int64
		handedOff   bool // the chat request, or an agent was there first
		lastAt      = int64(math.MinInt64)
	)
	for i, it := range c.History {
		f := "history[" + strconv.Itoa(i) + "]"
		if it.Timestamp == nil {
			return nil, b.wrap(fmt.Errorf("%s.timestamp: is required", f))
		}
		at, err := parseRFC3339(f+".timestamp", *it.Timestamp)
		if err != nil {
			return nil, b.wrap(err)
		}
		lastAt = max(lastAt, at)
		switch it.Type {
		case "chat.rating", "chat.comment":
			// The chat object's rating and comment are the final answer;
			// the history only tells when it was given.
			ratedAt = &at
			continue
		case "chat.msg", "chat.triggermsg", "chat.file", "chat.memberjoin", "chat.memberleave":
		default:
			// chat.request.rating, chat.wait_queue, department
			// transfers and anything newer carry nothing of the model.
			continue
		}
		if it.Type == "chat.triggermsg" && it.Nick == "" && it.SenderType == "" {
			it.Nick = "agent:trigger" // a trigger line names no sender
		}
		id, role, err := zdSender(it, f)
		if err != nil {
			return nil, b.wrap(err)
		}
		name, person := it.Name, ""
		if role == transcript.RoleCustomer {
			if name == "" {
				name = visitorName
			}
			person = visitorPerson
		}
		p := b.participant(id, role, name, person)
		if role == transcript.RoleAgent {
			// An agent who is there before the visitor writes
			// started the chat: nobody asked for one.
			handedOff = true
		}
		auto := role == transcript.RoleBot || it.Type == "chat.triggermsg"
		switch it.Type {
		case "chat.msg", "chat.triggermsg":
			if role == transcript.RoleCustomer && !handedOff {
				// Every Zendesk Chat is a request for a live agent:
				// the visitor's first line puts it in the queue.
				b.add(transcript.Event{At: at, Type: transcript.EventHandoff})
				handedOff = true
			}
			b.add(transcript.Event{At: at, Type: transcript.EventMessage, Participant: p, Text: deref(it.Msg), Automatic: auto})
			lastLineAt = max(lastLineAt, at)
		case "chat.file":
			// A file the platform does not describe is still a file
			// (transcript rule 7: name and type may be "", size 0).
			file := &transcript.File{}
			if it.Attachment != nil {
				file.Name, file.ContentType = deref(it.Attachment.Name), deref(it.Attachment.MimeType)
			}
			if it.Attachment != nil && it.Attachment.Size != nil {
				if *it.Attachment.Size < 0 {
					return nil, b.wrap(fmt.Errorf("%s.attachment.size: must not be negative", f))
				}
				file.Size = *it.Attachment.Size
			}
			if role == transcript.RoleCustomer && !handedOff {
				b.add(transcript.Event{At: at, Type: transcript.EventHandoff})
				handedOff = true
			}
			b.add(transcript.Event{At: at, Type: transcript.EventAttachment, Participant: p, File: file, Automatic: auto})
			lastLineAt = max(lastLineAt, at)
		case "chat.memberjoin":
			b.add(transcript.Event{At: at, Type: transcript.EventJoined, Participant: p})
		case "chat.memberleave":
			b.add(transcript.Event{At: at, Type: transcript.EventLeft, Participant: p})
			lastLeave, lastLeaveAt = p, at
		}
	}
	for i, pg := range c.Webpath {
		f := "webpath[" + strconv.Itoa(i) + "]"
		if pg.To == nil || *pg.To == "" {
			return nil, b.wrap(fmt.Errorf("%s.to: is required", f))
		}
		if pg.Timestamp == nil {
			return nil, b.wrap(fmt.Errorf("%s.timestamp: is required", f))
		}
		at, err := parseRFC3339(f+".timestamp", *pg.Timestamp)
		if err != nil {
			return nil, b.wrap(err)
		}
		b.add(transcript.Event{At: at, Type: transcript.EventPage, URL: *pg.To})
	}
	endAt := int64(math.MinInt64)
	if c.EndTimestamp != nil {
		at, err := parseRFC3339("end_timestamp", *c.EndTimestamp)
		if err != nil {
			return nil, b.wrap(err)
		}
		endAt = at
	}
	// Tickets and late ratings hang on the end, else on the last thing known.
	anchor := endAt
	if anchor == math.MinInt64 {
		anchor = lastAt
	}
	if c.ZendeskTicketID != nil && anchor != math.MinInt64 {
		b.add(transcript.Event{At: anchor, Type: transcript.EventTicket, Ticket: strconv.FormatInt(*c.ZendeskTicketID, 10)})
	}
	if endAt != math.MinInt64 {
		e := transcript.Event{At: endAt, Type: transcript.EventEnded}
		// Whoever left last, after every chat line and not after the
		// end, closed the chat; a leave followed by more talk did not.
		if lastLeave != "" && lastLeaveAt <= endAt && lastLeaveAt >= lastLineAt {
			e.Participant = lastLeave
			if b.role(lastLeave) == transcript.RoleCustomer {
				e.Reason = "quit"
			} else {
				e.Reason = "force"
			}
		}
		b.add(e)
	}
	if c.Rating != nil && *c.Rating != "" {
		score, err := goodBad("rating", *c.Rating)
		if err != nil {
			return nil, b.wrap(err)
		}
		at := anchor
		if ratedAt != nil {
			at = *ratedAt
		}
		if at != math.MinInt64 {
			b.add(transcript.Event{At: at, Type: transcript.EventRating, Participant: b.customer(visitorName, visitorPerson), Score: score, Comment: deref(c.Comment)})
		}
	}
	t, err := b.finish()
	if err != nil {
		return nil, err
	}
	d := &Decoded{Transcript: t}
	if len(c.ResponseTime) > 0 && c.ResponseTime.Kind() == '{' {
		d.Figures, err = figures("zendesk", map[string]jsontext.Value{"response_time": c.ResponseTime})
		if err != nil {
			return nil, err
		}
		var rt struct {
			First *float64 `json:"first"`
		}
		if err := strictjson.Unmarshal(c.ResponseTime, &rt); err != nil {
			return nil, fmt.Errorf("zendesk: response_time: %w", err)
		}
		if rt.First != nil {
			d.FirstReplyMs = secondsToMs(*rt.First)
		}
	}
	return d, nil
}

// zdSender names the sender of a history item: its nick when given
// ("visitor", "agent:<id>", "agent:trigger"), else its sender_type.
func zdSender(it zdItem, f string) (string, transcript.Role, error) {
	switch {
	case it.Nick == "visitor" || strings.HasPrefix(it.Nick, "visitor:"):
		return "visitor", transcript.RoleCustomer, nil
	case it.Nick == "agent:trigger":
		return it.Nick, transcript.RoleBot, nil
	case strings.HasPrefix(it.Nick, "agent:"):
		return it.Nick, transcript.RoleAgent, nil
	case it.Nick != "":
		return "", 0, fmt.Errorf("%s.nick: %q is neither the visitor nor an agent", f, clipText(it.Nick))
	}
	switch it.SenderType {
	case "Visitor":
		return "visitor", transcript.RoleCustomer, nil
	case "Trigger":
		return "agent:trigger", transcript.RoleBot, nil
	case "Agent":
		id := ""
		switch it.AgentID.Kind() {
		case '"':
			if err := strictjson.Unmarshal(it.AgentID, &id); err != nil {
				return "", 0, fmt.Errorf("%s.agent_id: %w", f, err)
			}
		case '0':
			id = string(it.AgentID)
		case 'n', 0:
		default:
			return "", 0, fmt.Errorf("%s.agent_id: must be a number or a string", f)
		}
		if id == "" {
			id = it.Name
		}
		if id == "" {
			return "", 0, fmt.Errorf("%s.agent_id: is required for an Agent without a nick", f)
		}
		return "agent:" + id, transcript.RoleAgent, nil
	case "":
		return "", 0, fmt.Errorf("%s.nick: is required (neither nick nor sender_type says who sent it)", f)
	}
	return "", 0, fmt.Errorf("%s.sender_type: %q is not Visitor, Agent or Trigger", f, clipText(it.SenderType))
}

func detectZendesk(data []byte) bool {
	var probe struct {
		Type    *string        `json:"type"`
		History jsontext.Value `json:"history"`
	}
	if strictjson.Unmarshal(data, &probe) != nil {
		return false
	}
	return probe.Type != nil && *probe.Type == "chat" && probe.History.Kind() == '['
}

// --- helpers shared by the platform formats (zendesk, chatwoot, rocketchat) ---

// builder collects participants and events of one platform conversation.
type builder struct {
	platform string
	t        transcript.Transcript
	idx      map[string]int
}

func newBuilder(platform, sessionID string) *builder {
	return &builder{platform: platform, t: transcript.Transcript{Version: 1, SessionID: sessionID}, idx: map[string]int{}}
}

// participant adds (or finds) a participant and returns its id. The first
// sighting decides role and visibility; a later name fills an empty one.
func (b *builder) participant(id string, role transcript.Role, name, person string) string {
	if i, ok := b.idx[id]; ok {
		if b.t.Participants[i].Name == "" {
			b.t.Participants[i].Name = name
		}
		return id
	}
	b.idx[id] = len(b.t.Participants)
	b.t.Participants = append(b.t.Participants, transcript.Participant{ID: id, Role: role, Name: name, Person: person})
	return id
}

func (b *builder) coach(id string) {
	if i, ok := b.idx[id]; ok {
		b.t.Participants[i].Visibility = transcript.VisibilityCoach
	}
}

func (b *builder) role(id string) transcript.Role {
	if i, ok := b.idx[id]; ok {
		return b.t.Participants[i].Role
	}
	return transcript.RoleUnknown
}

// first returns the first participant with the role, "" for none.
func (b *builder) first(role transcript.Role) string {
	for _, p := range b.t.Participants {
		if p.Role == role {
			return p.ID
		}
	}
	return ""
}

// customer returns the conversation's customer, adding one if none spoke.
func (b *builder) customer(name, person string) string {
	if p := b.first(transcript.RoleCustomer); p != "" {
		return p
	}
	return b.participant("visitor", transcript.RoleCustomer, name, person)
}

func (b *builder) system() string { return b.participant("system", transcript.RoleSystem, "", "") }

func (b *builder) add(e transcript.Event) { b.t.Events = append(b.t.Events, e) }

func (b *builder) wrap(err error) error { return fmt.Errorf("%s: %w", b.platform, err) }

// finish normalises the transcript. A conversation nobody took part in
// still gets its card: the system stands in as the one participant.
func (b *builder) finish() (*transcript.Transcript, error) {
	if len(b.t.Participants) == 0 {
		b.system()
	}
	t := b.t
	if err := t.Normalize(); err != nil {
		return nil, b.wrap(err)
	}
	return &t, nil
}

// figures builds the card's platformFigures: the platform's own values,
// unchanged, beside "platform": name; nil when it sent none of them.
func figures(platform string, fields map[string]jsontext.Value) (json.RawMessage, error) {
	kept := map[string]jsontext.Value{}
	for k, v := range fields {
		if len(v) > 0 && v.Kind() != 'n' {
			kept[k] = v
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	kept["platform"] = jsontext.Value(strconv.Quote(platform))
	out, err := rawObject(kept)
	if err != nil {
		return nil, fmt.Errorf("%s: figures: %w", platform, err)
	}
	return json.RawMessage(out), nil
}

// rawObject writes a JSON object of raw values, keys sorted, by hand: the
// platform's values stay byte for byte what it sent, only compacted
// (encoding/json would also escape <, > and &).
func rawObject(fields map[string]jsontext.Value) (jsontext.Value, error) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		name, err := jsontext.AppendQuote(out, k)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		out = append(name, ':')
		v := append(jsontext.Value(nil), fields[k]...)
		if err := v.Compact(); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, v...)
	}
	out = append(out, '}')
	return jsontext.Value(out), nil
}

// secondsToMs converts a platform's seconds figure to whole milliseconds
// (rounded: the platform's own value may carry fractions); nil when it is
// not a finite, non-negative number in range.
func secondsToMs(s float64) *int64 {
	if math.IsNaN(s) || s < 0 || s > 1e12 {
		return nil
	}
	ms := int64(math.Round(s * 1000))
	return &ms
}

// parseRFC3339 reads a platform time to the model's milliseconds.
func parseRFC3339(field, s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an RFC 3339 time", field, clipText(s))
	}
	return transcript.Millis(t), nil
}

// goodBad maps a good/bad rating to the 1–5 scale (good 5, bad 1).
func goodBad(field, v string) (int, error) {
	switch v {
	case "good":
		return 5, nil
	case "bad":
		return 1, nil
	}
	return 0, fmt.Errorf("%s: %q is not good or bad", field, clipText(v))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// clipText keeps outside values short in error messages.
func clipText(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
