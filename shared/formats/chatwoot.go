package formats

import (
	"fmt"
	"math/big"
	"net/url"
	"path"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Chatwoot: the conversation object as GET /api/v1/accounts/{account_id}/
// conversations/{conversation_id} answers it, with "messages" holding every
// message as GET …/conversations/{conversation_id}/messages gives them
// (docs/sources/chatwoot.md has the mapping and its sources).

func init() {
	register(Format{Name: "chatwoot", Decode: DecodeChatwoot, Detect: detectChatwoot})
}

type cwConversation struct {
	ID                  *int64         `json:"id"`
	AccountID           *int64         `json:"account_id"`
	InboxID             *int64         `json:"inbox_id"`
	Status              string         `json:"status"`
	CreatedAt           jsontext.Value `json:"created_at"`
	FirstReplyCreatedAt jsontext.Value `json:"first_reply_created_at"`
	Meta                *struct {
		Sender  *cwSender `json:"sender"`
		Channel string    `json:"channel"`
	} `json:"meta"`
	Messages []cwMessage `json:"messages"`
}

type cwSender struct {
	ID   *int64 `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"` // push_event_data: contact, user, agent_bot
}

type cwMessage struct {
	Content           *string        `json:"content"`
	MessageType       jsontext.Value `json:"message_type"`
	ContentType       string         `json:"content_type"`
	ContentAttributes jsontext.Value `json:"content_attributes"`
	CreatedAt         jsontext.Value `json:"created_at"`
	Private           bool           `json:"private"`
	SenderType        string         `json:"sender_type"` // Contact, User, AgentBot
	SenderID          *int64         `json:"sender_id"`
	Sender            *cwSender      `json:"sender"`
	Attachments       []struct {
		DataURL     string `json:"data_url"`
		ContentType string `json:"content_type"`
		FileSize    *int64 `json:"file_size"`
	} `json:"attachments"`
}

// The sender's push_event_data "type" and the message's sender_type
// (a polymorphic class name) for the same kinds of sender.
var cwSenderKinds = map[string]string{"contact": "Contact", "user": "User", "agent_bot": "AgentBot", "captain_assistant": "Captain::Assistant"}

// cwBotSpeaks reports whether any message comes from a bot (an agent bot or
// Captain): such a conversation reaches the agents only by the bot's handoff.
func cwBotSpeaks(ms []cwMessage) bool {
	for _, m := range ms {
		kind := m.SenderType
		if kind == "" && m.Sender != nil {
			kind = cwSenderKinds[m.Sender.Type]
		}
		if (kind == "AgentBot" || kind == "Captain::Assistant") && !m.Private {
			return true
		}
	}
	return false
}

// cwBotHandoff finds the activity line that hands a bot's conversation to
// the agents, -1 for none. The bot hands over by opening the conversation
// (pending → open), which Chatwoot writes as an activity line: the first
// activity after the bot's first message and before the first public agent
// message. The text of activity lines is localised, so it is not read; a
// resolved conversation no agent answered ends with its resolution line,
// which is not a handoff.
func cwBotHandoff(ms []cwMessage, status string) int {
	kind := func(m cwMessage) string {
		if m.SenderType != "" {
			return m.SenderType
		}
		if m.Sender != nil {
			return cwSenderKinds[m.Sender.Type]
		}
		return ""
	}
	isActivity := func(m cwMessage) bool {
		mt, err := cwMessageType("", m.MessageType)
		return err == nil && mt == 2
	}
	botAt, agentAt, lastActivity := -1, len(ms), -1
	for i, m := range ms {
		switch k := kind(m); {
		case (k == "AgentBot" || k == "Captain::Assistant") && !m.Private && botAt < 0:
			botAt = i
		case k == "User" && !m.Private && agentAt == len(ms):
			agentAt = i
		}
		if isActivity(m) {
			lastActivity = i
		}
	}
	if botAt < 0 {
		return -1
	}
	for i := botAt + 1; i < agentAt; i++ {
		if !isActivity(ms[i]) {
			continue
		}
		if agentAt == len(ms) && status == "resolved" && i == lastActivity {
			return -1
		}
		return i
	}
	return -1
}

// cwFromUser reports whether an agent (a Chatwoot user) sent the message.
func cwFromUser(m cwMessage) bool {
	if m.SenderType != "" {
		return m.SenderType == "User"
	}
	return m.Sender != nil && m.Sender.Type == "user"
}

// Chatwoot's message_type enum (app/models/message.rb); the API writes the
// integer (message_type_before_type_cast), webhooks the name.
var cwMessageTypes = map[string]int{"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}

// DecodeChatwoot maps one Chatwoot conversation with its messages to transcript v1.
func DecodeChatwoot(data []byte) (*Decoded, error) {
	var c cwConversation
	if err := strictjson.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("chatwoot: %w", err)
	}
	if c.ID == nil {
		return nil, fmt.Errorf("chatwoot: id: is required")
	}
	b := newBuilder("chatwoot", strconv.FormatInt(*c.ID, 10))
	var contactName string
	var contactID *int64
	if c.Meta != nil {
		if len(c.Meta.Channel) <= 64 {
			b.t.Channel = c.Meta.Channel
		}
		if c.Meta.Sender != nil {
			contactName, contactID = c.Meta.Sender.Name, c.Meta.Sender.ID
		}
	}
	createdAt, err := cwTime("created_at", c.CreatedAt)
	if err != nil {
		return nil, b.wrap(err)
	}
	if createdAt != nil {
		b.add(transcript.Event{At: *createdAt, Type: transcript.EventStarted})
	}
	var (
		agentSpoke, handedOff bool
		lastActivity, lastAt  *int64
		endIdx                = -1 // where the end goes: after the last activity line
		withBot               = cwBotSpeaks(c.Messages)
		handoffIdx            = cwBotHandoff(c.Messages, c.Status)
	)
	for i, m := range c.Messages {
		f := "messages[" + strconv.Itoa(i) + "]"
		at, err := cwTime(f+".created_at", m.CreatedAt)
		if err != nil {
			return nil, b.wrap(err)
		}
		if at == nil {
			return nil, b.wrap(fmt.Errorf("%s.created_at: is required", f))
		}
		lastAt = at
		mt, err := cwMessageType(f+".message_type", m.MessageType)
		if err != nil {
			return nil, b.wrap(err)
		}
		var p string
		auto := false
		switch mt {
		case 2: // activity: assignment, status changes, resolution
			p, auto = b.system(), true
			lastActivity = at
			if i == handoffIdx {
				b.add(transcript.Event{At: *at, Type: transcript.EventHandoff})
				handedOff = true
			}
		case 3: // template: forms and the CSAT survey, sent by Chatwoot
			p, auto = b.system(), true
		default:
			if m.Private && !cwFromUser(m) {
				// A private line that is not an agent's note (a
				// Captain draft): the contact never saw it and no
				// agent wrote it, so it is no line of the chat.
				continue
			}
			p, err = cwParticipant(b, m, mt, f, contactName, contactID)
			if err != nil {
				return nil, b.wrap(err)
			}
			if mt == 0 && !withBot && !agentSpoke && !handedOff && b.role(p) == transcript.RoleCustomer {
				// No bot in this conversation: it sits in the agents'
				// queue from the contact's first message.
				b.add(transcript.Event{At: *at, Type: transcript.EventHandoff})
				handedOff = true
			}
			switch b.role(p) {
			case transcript.RoleAgent:
				if !m.Private {
					agentSpoke = true
				}
			case transcript.RoleSystem:
				auto = true // outgoing with no sender: auto-replies, campaigns
			}
		}
		if m.Content != nil && *m.Content != "" || len(m.Attachments) == 0 {
			b.add(transcript.Event{At: *at, Type: transcript.EventMessage, Participant: p, Text: deref(m.Content), Automatic: auto})
		}
		for j, a := range m.Attachments {
			file := &transcript.File{Name: cwFileName(a.DataURL), ContentType: a.ContentType}
			if a.FileSize != nil {
				if *a.FileSize < 0 {
					return nil, b.wrap(fmt.Errorf("%s.attachments[%d].file_size: must not be negative", f, j))
				}
				file.Size = *a.FileSize
			}
			b.add(transcript.Event{At: *at, Type: transcript.EventAttachment, Participant: p, File: file, Automatic: auto})
		}
		if mt == 2 {
			endIdx = len(b.t.Events)
		}
		if m.ContentType == "input_csat" {
			if err := cwRating(b, m, *at, f, contactName, contactID); err != nil {
				return nil, b.wrap(err)
			}
		}
	}
	if c.Status == "resolved" {
		// Resolving writes an activity line; without one the last message
		// is the latest instant the conversation is known to be over by.
		end := lastActivity
		if end == nil {
			end = lastAt
		}
		if end == nil {
			end = createdAt
		}
		if end != nil {
			e := transcript.Event{At: *end, Type: transcript.EventEnded}
			if lastActivity != nil && endIdx >= 0 {
				// Right after the resolution line: the CSAT survey
				// Chatwoot sends at the same second comes after the end.
				b.t.Events = append(b.t.Events[:endIdx], append([]transcript.Event{e}, b.t.Events[endIdx:]...)...)
			} else {
				b.add(e)
			}
		}
	}
	t, err := b.finish()
	if err != nil {
		return nil, err
	}
	d := &Decoded{Transcript: t}
	first, err := cwTime("first_reply_created_at", c.FirstReplyCreatedAt)
	if err != nil {
		return nil, b.wrap(err)
	}
	// The API writes first_reply_created_at.to_i: 0 when there is no reply.
	if first != nil && *first > 0 {
		d.Figures, err = figures("chatwoot", map[string]jsontext.Value{"created_at": c.CreatedAt, "first_reply_created_at": c.FirstReplyCreatedAt})
		if err != nil {
			return nil, err
		}
		if createdAt != nil && *first >= *createdAt {
			ms := *first - *createdAt
			d.FirstReplyMs = &ms
		}
	}
	return d, nil
}

func cwParticipant(b *builder, m cwMessage, mt int, f, contactName string, contactID *int64) (string, error) {
	kind, name := m.SenderType, ""
	var id *int64 = m.SenderID
	if m.Sender != nil {
		name = m.Sender.Name
		if m.Sender.ID != nil {
			id = m.Sender.ID
		}
		if kind == "" {
			kind = cwSenderKinds[m.Sender.Type]
			if kind == "" && m.Sender.Type != "" {
				return "", fmt.Errorf("%s.sender.type: %q is not contact, user, agent_bot or captain_assistant", f, clipText(m.Sender.Type))
			}
		}
	}
	if kind == "" {
		if mt == 0 { // incoming: the conversation's contact
			kind, id, name = "Contact", contactID, contactName
		} else {
			return b.system(), nil
		}
	}
	ref := func(prefix string) string {
		if id == nil {
			return prefix
		}
		return prefix + ":" + strconv.FormatInt(*id, 10)
	}
	switch kind {
	case "Contact":
		if name == "" {
			name = contactName
		}
		return b.participant(ref("contact"), transcript.RoleCustomer, name, ""), nil
	case "User":
		person := ref("user")
		if m.Private {
			// Private notes are never shown to the contact: the
			// agent writing them is a coach line of the same person.
			p := b.participant(person+":private", transcript.RoleAgent, name, person)
			b.coach(p)
			return p, nil
		}
		return b.participant(person, transcript.RoleAgent, name, person), nil
	case "AgentBot":
		return b.participant(ref("agent_bot"), transcript.RoleBot, name, ""), nil
	case "Captain::Assistant":
		return b.participant(ref("captain_assistant"), transcript.RoleBot, name, ""), nil
	}
	return "", fmt.Errorf("%s.sender_type: %q is not Contact, User, AgentBot or Captain::Assistant", f, clipText(kind))
}

func cwRating(b *builder, m cwMessage, at int64, f, contactName string, contactID *int64) error {
	if len(m.ContentAttributes) == 0 || m.ContentAttributes.Kind() != '{' {
		return nil
	}
	var ca struct {
		SubmittedValues *struct {
			CsatSurveyResponse *struct {
				Rating          *int    `json:"rating"`
				FeedbackMessage *string `json:"feedback_message"`
			} `json:"csat_survey_response"`
		} `json:"submitted_values"`
	}
	if err := strictjson.Unmarshal(m.ContentAttributes, &ca); err != nil {
		return fmt.Errorf("%s.content_attributes: %w", f, err)
	}
	if ca.SubmittedValues == nil || ca.SubmittedValues.CsatSurveyResponse == nil || ca.SubmittedValues.CsatSurveyResponse.Rating == nil {
		return nil // sent, not answered
	}
	r := ca.SubmittedValues.CsatSurveyResponse
	if *r.Rating < 1 || *r.Rating > 5 {
		return fmt.Errorf("%s.content_attributes.submitted_values.csat_survey_response.rating: %d is not 1 to 5", f, *r.Rating)
	}
	name, ref := contactName, "contact"
	if contactID != nil {
		ref += ":" + strconv.FormatInt(*contactID, 10)
	}
	p := b.first(transcript.RoleCustomer)
	if p == "" {
		p = b.participant(ref, transcript.RoleCustomer, name, "")
	}
	b.add(transcript.Event{At: at, Type: transcript.EventRating, Participant: p, Score: *r.Rating, Comment: deref(r.FeedbackMessage)})
	return nil
}

// cwTime reads a Chatwoot time: Unix seconds as the API writes them
// (created_at.to_i), or an RFC 3339 string as webhooks do. Absent or null: nil.
func cwTime(field string, v jsontext.Value) (*int64, error) {
	if len(v) == 0 || v.Kind() == 'n' {
		return nil, nil
	}
	switch v.Kind() {
	case '0':
		// Exact decimal arithmetic: updated_at-style values such as
		// 1795165470.512 must give …512 ms, not a float's …511.
		r, ok := new(big.Rat).SetString(string(v))
		if !ok || r.Cmp(big.NewRat(-62135596800, 1)) < 0 || r.Cmp(big.NewRat(253402300799, 1)) > 0 {
			return nil, fmt.Errorf("%s: %s is not a Unix time in seconds", field, clipText(string(v)))
		}
		r.Mul(r, big.NewRat(1000, 1))
		q := new(big.Int).Quo(r.Num(), r.Denom()) // toward zero
		if r.Sign() < 0 && !r.IsInt() {
			q.Sub(q, big.NewInt(1)) // cut toward the past
		}
		ms := q.Int64()
		return &ms, nil
	case '"':
		var s string
		if err := strictjson.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		ms, err := parseRFC3339(field, s)
		if err != nil {
			return nil, err
		}
		return &ms, nil
	}
	return nil, fmt.Errorf("%s: must be a number or a string", field)
}

func cwMessageType(field string, v jsontext.Value) (int, error) {
	switch v.Kind() {
	case '0':
		n, err := strconv.Atoi(string(v))
		if err == nil && n >= 0 && n <= 3 {
			return n, nil
		}
	case '"':
		var s string
		if strictjson.Unmarshal(v, &s) == nil {
			if n, ok := cwMessageTypes[s]; ok {
				return n, nil
			}
		}
	case 0:
		return 0, fmt.Errorf("%s: is required", field)
	}
	return 0, fmt.Errorf("%s: %s is not incoming, outgoing, activity or template (0–3)", field, clipText(string(v)))
}

// cwFileName is the last path segment of the file's URL: Chatwoot's
// attachment JSON has no file name of its own.
func cwFileName(dataURL string) string {
	u, err := url.Parse(dataURL)
	if err != nil || u.Path == "" {
		return ""
	}
	base := path.Base(u.Path)
	if base == "/" || base == "." {
		return ""
	}
	return base
}

func detectChatwoot(data []byte) bool {
	var probe struct {
		Messages  jsontext.Value `json:"messages"`
		InboxID   jsontext.Value `json:"inbox_id"`
		AccountID jsontext.Value `json:"account_id"`
		History   jsontext.Value `json:"history"`
		Room      jsontext.Value `json:"room"`
	}
	if strictjson.Unmarshal(data, &probe) != nil {
		return false
	}
	return probe.Messages.Kind() == '[' && (len(probe.InboxID) > 0 || len(probe.AccountID) > 0) &&
		len(probe.History) == 0 && len(probe.Room) == 0
}
