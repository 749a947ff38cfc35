package formats

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Genesys Cloud messaging conversations (format "genesys").
//
// The file is {"conversation": <GET /api/v2/conversations/messages/{id}>,
// "messages": [<MessageData>...]}: the messaging conversation with its
// participants, and every message of it (GET …/messages/{messageId}, or the
// entities of POST …/messages/bulk). docs/sources/genesys.md has the field by
// field mapping and what Genesys does not tell; in short:
//
//   - sessionId is conversation.id; tenant is empty; channel is the customer
//     participant's "type" (webmessaging, sms, …) as Genesys spells it; async
//     is true (Genesys messaging is asynchronous messaging).
//   - purpose customer/external → customer; agent/user → agent (one per
//     user.id and visibility; mediaRoles "coach" → coach, "monitor" or a
//     monitoredParticipantId → monitor); workflow/bot/botflow → bot; acd →
//     a handoff at its startTime (each queue entry is a request for a live
//     agent); other purposes are not people of the chat and are skipped.
//   - an agent joins at connectedTime and leaves at endTime, unless that is
//     the conversation's end (then they were present at the end).
//   - the conversation is closed when every participant has an endTime; it
//     ends at the latest. A visible agent or bot whose disconnectType is
//     "client" (it pressed disconnect) at that instant ended it ("force");
//     one who disconnected earlier only left; else
//     the system did (disconnectType "system" → inactive, "error" or
//     "transport.failure" → error). A customer whose own side hung up
//     (disconnectType "client" → quit, "endpoint"/"transport.failure" →
//     disconnect) leaves first, so the card says CLIENT.
//   - wrap-up name (else code) and tags → markers at the agent's endTime.
//   - messages: inbound → the customer; outbound with createdBy → the agent
//     with that user.id; outbound without createdBy → the bot connected at
//     that moment (or originatingEntity "Bot"), else a system line marked
//     automatic. Receipts and events (normalizedMessage.type Receipt/Event)
//     are not chat lines; a message id given twice is one line.
//
// Genesys carries no survey or rating and no per-conversation metrics in
// these two shapes, so Figures and FirstReplyMs are always nil.
func init() {
	register(Format{Name: "genesys", Decode: decodeGenesys, Detect: detectGenesys})
}

type gcFile struct {
	Conversation *gcConversation `json:"conversation"`
	Messages     *[]gcMessage    `json:"messages"`
}

type gcConversation struct {
	ID           string          `json:"id"`
	Participants []gcParticipant `json:"participants"`
}

type gcRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type gcParticipant struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	StartTime              string    `json:"startTime"`
	ConnectedTime          string    `json:"connectedTime"`
	EndTime                string    `json:"endTime"`
	Purpose                string    `json:"purpose"`
	DisconnectType         string    `json:"disconnectType"`
	MediaRoles             []string  `json:"mediaRoles"`
	User                   *gcRef    `json:"user"`
	ExternalContact        *gcRef    `json:"externalContact"`
	Wrapup                 *gcWrapup `json:"wrapup"`
	Type                   string    `json:"type"`
	MonitoredParticipantID string    `json:"monitoredParticipantId"`
}

type gcWrapup struct {
	Code string   `json:"code"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type gcMessage struct {
	ID                string        `json:"id"`
	Timestamp         string        `json:"timestamp"`
	Direction         string        `json:"direction"`
	TextBody          *string       `json:"textBody"`
	Media             []gcMedia     `json:"media"`
	NormalizedMessage *gcNormalized `json:"normalizedMessage"`
	CreatedBy         *gcRef        `json:"createdBy"`
}

type gcMedia struct {
	MediaType          string `json:"mediaType"`
	ContentLengthBytes int64  `json:"contentLengthBytes"`
	Name               string `json:"name"`
}

type gcNormalized struct {
	Type              string      `json:"type"`
	Text              *string     `json:"text"`
	Content           []gcContent `json:"content"`
	OriginatingEntity string      `json:"originatingEntity"`
	Direction         string      `json:"direction"`
}

type gcContent struct {
	ContentType string        `json:"contentType"`
	Attachment  *gcAttachment `json:"attachment"`
}

type gcAttachment struct {
	Mime             string `json:"mime"`
	Filename         string `json:"filename"`
	ContentSizeBytes int64  `json:"contentSizeBytes"`
}

// detectGenesys: a top-level object with "conversation" (whose participants
// carry "purpose") and a "messages" array.
func detectGenesys(data []byte) bool {
	var probe struct {
		Conversation *struct {
			Participants []map[string]jsontext.Value `json:"participants"`
		} `json:"conversation"`
		Messages *[]jsontext.Value `json:"messages"`
	}
	if strictjson.Unmarshal(data, &probe) != nil || probe.Conversation == nil || probe.Messages == nil {
		return false
	}
	for _, p := range probe.Conversation.Participants {
		if _, ok := p["purpose"]; ok {
			return true
		}
	}
	return false
}

func gcErr(field, format string, args ...any) error {
	if field == "" {
		return fmt.Errorf("genesys: "+format, args...)
	}
	return fmt.Errorf("genesys: %s: %s", field, fmt.Sprintf(format, args...))
}

// gcTime reads a Genesys ISO-8601 time ("yyyy-MM-ddTHH:mm:ss[.mmm]Z") into
// transcript milliseconds; ok is false for an absent time.
func gcTime(s, field string) (ms int64, ok bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	t, perr := time.Parse(time.RFC3339Nano, s)
	if perr != nil {
		return 0, false, gcErr(field, "%q is not an ISO-8601 date-time", s)
	}
	return t.UnixMilli(), true, nil
}

// gcbfField renders a JSON pointer as the field path our errors use:
// /conversation/participants/2/startTime → conversation.participants[2].startTime.
func gcbfField(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// gcbfJSONError turns a strictjson error into "<platform>: <field>: <what>".
func gcbfJSONError(platform string, err error) error {
	field, what := gcbfJSONParts(err)
	if field == "" {
		return fmt.Errorf("%s: %s", platform, what)
	}
	return fmt.Errorf("%s: %s: %s", platform, field, what)
}

// gcbfKind names a JSON kind in words.
func gcbfKind(k jsontext.Kind) string {
	switch k {
	case '[':
		return "array"
	case '{':
		return "object"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return k.String()
}

// gcbfJSONParts splits a strictjson error into the field it names (""
// for the whole document) and what is wrong there.
func gcbfJSONParts(err error) (field, what string) {
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		what = "has the wrong JSON type"
		if se.Err != nil {
			what = se.Err.Error()
		} else if se.JSONKind != 0 {
			what = "cannot be a JSON " + gcbfKind(se.JSONKind) + " here"
		}
		return gcbfField(se.JSONPointer), what
	case errors.As(err, &sy):
		what = sy.Err.Error()
		if f := gcbfField(sy.JSONPointer); f != "" {
			return f, what
		}
		return "", "not valid JSON: " + what
	}
	return "", err.Error()
}

func decodeGenesys(data []byte) (*Decoded, error) {
	t, err := buildGenesys(data)
	if err != nil {
		return nil, err
	}
	if err := t.Normalize(); err != nil {
		return nil, fmt.Errorf("genesys: %w", err)
	}
	return &Decoded{Transcript: t}, nil
}

// gcPeople builds the transcript's participants from Genesys' and finds
// who sent each line.
type gcPeople struct {
	t         *transcript.Transcript
	ids       map[string]bool
	agentKey  map[string]string // user id + visibility → transcript id
	customers []string
	bots      []gcSpan
	system    string
	synthBot  string
}

// gcSpan is a bot's connection, to tell which bot sent an outbound line.
type gcSpan struct {
	id         string
	from, to   int64
	open, seen bool
}

func (pp *gcPeople) add(p transcript.Participant) string {
	for pp.ids[p.ID] { // synthetic ids never clash with Genesys ones
		p.ID += "_"
	}
	pp.ids[p.ID] = true
	pp.t.Participants = append(pp.t.Participants, p)
	return p.ID
}

// buildGenesys maps the file to a transcript without normalising it.
func buildGenesys(data []byte) (*transcript.Transcript, error) {
	var f gcFile
	if err := strictjson.Unmarshal(data, &f); err != nil {
		return nil, gcbfJSONError("genesys", err)
	}
	if f.Conversation == nil {
		return nil, gcErr("conversation", "is required")
	}
	if f.Messages == nil {
		return nil, gcErr("messages", "is required (an array of the conversation's messages, may be empty)")
	}
	c := f.Conversation
	if c.ID == "" {
		return nil, gcErr("conversation.id", "is required")
	}
	if !transcript.ValidSessionID(c.ID) {
		return nil, gcErr("conversation.id", "%q cannot be a sessionId (1 to 128 characters of A-Z a-z 0-9 . _ : -)", c.ID)
	}
	if len(c.Participants) == 0 {
		return nil, gcErr("conversation.participants", "at least one participant is required")
	}
	t := &transcript.Transcript{Version: 1, SessionID: c.ID, Async: true}
	pp := &gcPeople{t: t, ids: map[string]bool{}, agentKey: map[string]string{}}

	type times struct {
		start, conn, end          int64
		hasStart, hasConn, hasEnd bool
	}
	tm := make([]times, len(c.Participants))
	closed := true
	var first, last int64
	haveFirst := false
	see := func(ms int64) {
		if !haveFirst || ms < first {
			first, haveFirst = ms, true
		}
	}
	for i := range c.Participants {
		p := &c.Participants[i]
		f := fmt.Sprintf("conversation.participants[%d]", i)
		var err error
		if tm[i].start, tm[i].hasStart, err = gcTime(p.StartTime, f+".startTime"); err != nil {
			return nil, err
		}
		if tm[i].conn, tm[i].hasConn, err = gcTime(p.ConnectedTime, f+".connectedTime"); err != nil {
			return nil, err
		}
		if tm[i].end, tm[i].hasEnd, err = gcTime(p.EndTime, f+".endTime"); err != nil {
			return nil, err
		}
		if p.Purpose == "" {
			return nil, gcErr(f+".purpose", "is required")
		}
		if tm[i].hasStart {
			see(tm[i].start)
		}
		if tm[i].hasConn {
			see(tm[i].conn)
		}
		if tm[i].hasEnd {
			if tm[i].end > last {
				last = tm[i].end
			}
		} else {
			closed = false
		}
	}

	// Participants: customers first, so the card's customer is one.
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.Purpose != "customer" && p.Purpose != "external" {
			continue
		}
		if p.ID == "" {
			return nil, gcErr(fmt.Sprintf("conversation.participants[%d].id", i), "is required")
		}
		person := ""
		if p.ExternalContact != nil {
			person = p.ExternalContact.ID
		}
		pp.customers = append(pp.customers, pp.add(transcript.Participant{ID: p.ID, Role: transcript.RoleCustomer, Name: p.Name, Person: person}))
		if t.Channel == "" {
			t.Channel = p.Type
		}
	}
	pid := make([]string, len(c.Participants)) // transcript id per Genesys participant
	for i := range c.Participants {
		p := &c.Participants[i]
		f := fmt.Sprintf("conversation.participants[%d]", i)
		switch p.Purpose {
		case "customer", "external":
			pid[i] = p.ID
		case "agent", "user":
			if p.ID == "" {
				return nil, gcErr(f+".id", "is required")
			}
			vis := transcript.VisibilityAll
			for _, r := range p.MediaRoles {
				switch r {
				case "coach":
					vis = transcript.VisibilityCoach
				case "monitor":
					vis = transcript.VisibilityMonitor
				}
			}
			if p.MonitoredParticipantID != "" {
				vis = transcript.VisibilityMonitor
			}
			user, name := "", p.Name
			if p.User != nil {
				user = p.User.ID
				if name == "" {
					name = p.User.Name
				}
			}
			key := p.ID
			if user != "" {
				key = "user/" + user
			}
			key += "/" + vis.String()
			if id, ok := pp.agentKey[key]; ok {
				pid[i] = id
				continue
			}
			id := pp.add(transcript.Participant{ID: p.ID, Role: transcript.RoleAgent, Name: name, Person: user, Visibility: vis})
			pp.agentKey[key] = id
			pid[i] = id
		case "workflow", "bot", "botflow":
			if p.ID == "" {
				return nil, gcErr(f+".id", "is required")
			}
			id := pp.add(transcript.Participant{ID: p.ID, Role: transcript.RoleBot, Name: p.Name})
			pid[i] = id
			s := gcSpan{id: id, open: !tm[i].hasEnd, to: tm[i].end}
			switch {
			case tm[i].hasConn:
				s.from, s.seen = tm[i].conn, true
			case tm[i].hasStart:
				s.from, s.seen = tm[i].start, true
			}
			pp.bots = append(pp.bots, s)
		}
	}

	// Messages are read before the events are laid out: their times take
	// part in the session start.
	type line struct {
		at        int64
		who       string
		text      string
		hasText   bool
		automatic bool
		files     []transcript.File
	}
	var lines []line
	seenID := map[string]bool{}
	for i := range *f.Messages {
		m := &(*f.Messages)[i]
		fld := fmt.Sprintf("messages[%d]", i)
		nm := m.NormalizedMessage
		if nm != nil && (nm.Type == "Receipt" || nm.Type == "Event") {
			continue // delivery receipts and typing events are not chat lines
		}
		if m.ID != "" {
			// A fetcher that pages or retries may hand the same message
			// twice; one message is one line.
			if seenID[m.ID] {
				continue
			}
			seenID[m.ID] = true
		}
		at, ok, err := gcTime(m.Timestamp, fld+".timestamp")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, gcErr(fld+".timestamp", "is required")
		}
		see(at)
		dir := m.Direction
		if dir == "" && nm != nil {
			dir = strings.ToLower(nm.Direction)
		}
		l := line{at: at}
		switch dir {
		case "inbound":
			if len(pp.customers) == 0 {
				return nil, gcErr(fld+".direction", "is inbound, but the conversation has no customer participant")
			}
			l.who = pp.customers[0]
		case "outbound":
			l.who, l.automatic = pp.outboundSender(m, at)
		case "":
			return nil, gcErr(fld+".direction", "is required (inbound or outbound)")
		default:
			return nil, gcErr(fld+".direction", "%q is not inbound or outbound", dir)
		}
		switch {
		case nm != nil && nm.Text != nil:
			l.text, l.hasText = *nm.Text, true
		case m.TextBody != nil:
			l.text, l.hasText = *m.TextBody, true
		}
		if nm != nil {
			for j, ct := range nm.Content {
				if ct.Attachment == nil {
					continue
				}
				if ct.Attachment.ContentSizeBytes < 0 {
					return nil, gcErr(fmt.Sprintf("%s.normalizedMessage.content[%d].attachment.contentSizeBytes", fld, j), "must not be negative")
				}
				l.files = append(l.files, transcript.File{Name: ct.Attachment.Filename, ContentType: ct.Attachment.Mime, Size: ct.Attachment.ContentSizeBytes})
			}
		}
		if len(l.files) == 0 { // media is the deprecated form of the same files
			for j, md := range m.Media {
				if md.ContentLengthBytes < 0 {
					return nil, gcErr(fmt.Sprintf("%s.media[%d].contentLengthBytes", fld, j), "must not be negative")
				}
				l.files = append(l.files, transcript.File{Name: md.Name, ContentType: md.MediaType, Size: md.ContentLengthBytes})
			}
		}
		lines = append(lines, l)
	}

	ev := &t.Events
	add := func(e transcript.Event) { *ev = append(*ev, e) }
	if haveFirst {
		add(transcript.Event{At: first, Type: transcript.EventStarted})
	}
	leftReason := func(d string) string {
		switch {
		case d == "client" || strings.HasPrefix(d, "transfer"):
			return "quit"
		case d == "endpoint" || d == "transport.failure" || d == "error":
			return "disconnect"
		}
		return ""
	}
	for i := range c.Participants {
		p := &c.Participants[i]
		switch p.Purpose {
		case "agent", "user":
			if !tm[i].hasConn {
				continue // alerted but never answered: not in the chat
			}
			add(transcript.Event{At: tm[i].conn, Type: transcript.EventJoined, Participant: pid[i]})
			if !tm[i].hasEnd {
				continue
			}
			if !closed || tm[i].end < last {
				add(transcript.Event{At: tm[i].end, Type: transcript.EventLeft, Participant: pid[i], Reason: leftReason(p.DisconnectType)})
			}
			if w := p.Wrapup; w != nil {
				if n := w.Name; n != "" {
					add(transcript.Event{At: tm[i].end, Type: transcript.EventMarker, Marker: n})
				} else if w.Code != "" {
					add(transcript.Event{At: tm[i].end, Type: transcript.EventMarker, Marker: w.Code})
				}
				for _, tag := range w.Tags {
					if tag != "" {
						add(transcript.Event{At: tm[i].end, Type: transcript.EventMarker, Marker: tag})
					}
				}
			}
		case "customer", "external":
			if !tm[i].hasEnd {
				continue
			}
			switch p.DisconnectType {
			case "client":
				add(transcript.Event{At: tm[i].end, Type: transcript.EventLeft, Participant: pid[i], Reason: "quit"})
			case "endpoint", "transport.failure":
				add(transcript.Event{At: tm[i].end, Type: transcript.EventLeft, Participant: pid[i], Reason: "disconnect"})
			}
		case "acd":
			at, ok := tm[i].start, tm[i].hasStart
			if !ok {
				at, ok = tm[i].conn, tm[i].hasConn
			}
			if !ok {
				return nil, gcErr(fmt.Sprintf("conversation.participants[%d].startTime", i), "is required for an acd participant (the time it entered the queue)")
			}
			add(transcript.Event{At: at, Type: transcript.EventHandoff})
		}
	}
	for _, l := range lines {
		if l.hasText && l.text != "" || len(l.files) == 0 {
			add(transcript.Event{At: l.at, Type: transcript.EventMessage, Participant: l.who, Text: l.text, Automatic: l.automatic})
		}
		for k := range l.files {
			file := l.files[k]
			add(transcript.Event{At: l.at, Type: transcript.EventAttachment, Participant: l.who, File: &file, Automatic: l.automatic})
		}
	}
	if closed {
		end := transcript.Event{At: last, Type: transcript.EventEnded}
		// Only someone whose disconnect is the conversation's end closed it:
		// an agent who pressed disconnect earlier left a chat that went on,
		// and a coach or monitor cannot close the customer's conversation.
		visible := make(map[string]bool, len(t.Participants))
		for _, q := range t.Participants {
			visible[q.ID] = q.Visibility == transcript.VisibilityAll
		}
		closer := ""
		for i := range c.Participants {
			p := &c.Participants[i]
			switch p.Purpose {
			case "agent", "user", "workflow", "bot", "botflow":
				if p.DisconnectType == "client" && tm[i].hasEnd && tm[i].end == last && visible[pid[i]] {
					closer = pid[i]
				}
			}
		}
		if closer != "" {
			end.Participant, end.Reason = closer, "force"
		} else {
			// The first customer's disconnectType tells why the system closed.
			for i := range c.Participants {
				if p := &c.Participants[i]; p.Purpose == "customer" || p.Purpose == "external" {
					switch p.DisconnectType {
					case "system":
						end.Reason = "inactive"
					case "error", "transport.failure":
						end.Reason = "error"
					}
					break
				}
			}
		}
		add(end)
	}
	return t, nil
}

// outboundSender names who sent an outbound line: the agent of createdBy,
// else the bot connected at that moment (or any bot when Genesys marks the
// line as the bot's), else the system, whose lines are automatic.
func (pp *gcPeople) outboundSender(m *gcMessage, at int64) (string, bool) {
	if m.CreatedBy != nil && m.CreatedBy.ID != "" {
		user := m.CreatedBy.ID
		for _, vis := range []string{"all", "coach", "monitor"} {
			if id, ok := pp.agentKey["user/"+user+"/"+vis]; ok {
				return id, false
			}
		}
		// A user who sent a line without being a participant (an API or
		// supervisor message): an agent all the same, as Genesys says a
		// user sent it.
		id := pp.add(transcript.Participant{ID: "user:" + user, Role: transcript.RoleAgent, Name: m.CreatedBy.Name, Person: user})
		pp.agentKey["user/"+user+"/all"] = id
		return id, false
	}
	for _, b := range pp.bots {
		if b.seen && at >= b.from && (b.open || at <= b.to) {
			return b.id, false
		}
	}
	if m.NormalizedMessage != nil && m.NormalizedMessage.OriginatingEntity == "Bot" {
		if len(pp.bots) > 0 {
			return pp.bots[0].id, false
		}
		if pp.synthBot == "" {
			pp.synthBot = pp.add(transcript.Participant{ID: "bot", Role: transcript.RoleBot})
		}
		return pp.synthBot, false
	}
	if pp.system == "" {
		pp.system = pp.add(transcript.Participant{ID: "system", Role: transcript.RoleSystem})
	}
	return pp.system, true
}
