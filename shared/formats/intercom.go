package formats

// Intercom: one conversation as GET /conversations/{id} answers it (REST
// API 2.x), parts included. The mapping, field by field, is in
// docs/sources/intercom.md.

import (
	"fmt"
	"html"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

func init() {
	register(Format{Name: "intercom", Decode: DecodeIntercom, Detect: detectIntercom})
}

type icConversation struct {
	Type               *string         `json:"type"`
	ID                 *string         `json:"id"`
	CreatedAt          *int64          `json:"created_at"`
	UpdatedAt          *int64          `json:"updated_at"`
	Open               *bool           `json:"open"`
	State              string          `json:"state"`
	Source             *icPart         `json:"source"`
	Contacts           *icContacts     `json:"contacts"`
	ConversationRating *icRating       `json:"conversation_rating"`
	Statistics         jsontext.Value  `json:"statistics"`
	ConversationParts  *icParts        `json:"conversation_parts"`
	LinkedObjects      *icLinked       `json:"linked_objects"`
	FirstContactReply  *icFirstContact `json:"first_contact_reply"`
}

// icPart is a conversation part; the source (the opening message) has the
// same author/body/attachments shape plus type, delivered_as and url.
type icPart struct {
	Type        string          `json:"type"`
	PartType    *string         `json:"part_type"`
	Body        *string         `json:"body"`
	CreatedAt   *int64          `json:"created_at"`
	AssignedTo  *icRef          `json:"assigned_to"`
	Author      *icAuthor       `json:"author"`
	Attachments []*icAttachment `json:"attachments"`
	DeliveredAs string          `json:"delivered_as"`
	URL         *string         `json:"url"`
}

type icAuthor struct {
	Type *string `json:"type"`
	ID   *string `json:"id"`
	Name *string `json:"name"`
}

type icRef struct {
	Type string  `json:"type"`
	ID   *string `json:"id"`
}

type icAttachment struct {
	Name        *string `json:"name"`
	ContentType *string `json:"content_type"`
	Filesize    *int64  `json:"filesize"`
}

type icContacts struct {
	Contacts []*icRef `json:"contacts"`
}

type icParts struct {
	ConversationParts []*icPart `json:"conversation_parts"`
}

type icRating struct {
	Rating    *int64  `json:"rating"`
	Remark    *string `json:"remark"`
	CreatedAt *int64  `json:"created_at"`
	Contact   *icRef  `json:"contact"`
}

type icLinked struct {
	Data []*icLinkedObject `json:"data"`
}

type icLinkedObject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type icFirstContact struct {
	URL *string `json:"url"`
}

type icStatistics struct {
	TimeToAdminReply *int64 `json:"time_to_admin_reply"`
}

func icErr(field, format string, args ...any) error {
	return fmt.Errorf("intercom: %s: %s", field, fmt.Sprintf(format, args...))
}

// detectIntercom: a conversation object says "type": "conversation" and
// carries its parts or its source message.
func detectIntercom(data []byte) bool {
	var probe struct {
		Type   jsontext.Value `json:"type"`
		Parts  jsontext.Value `json:"conversation_parts"`
		Source jsontext.Value `json:"source"`
	}
	if strictjson.Unmarshal(data, &probe) != nil {
		return false
	}
	return string(probe.Type) == `"conversation"` && (probe.Parts.Kind() == '{' || probe.Source.Kind() == '{')
}

// icMaxUnix is 9999-12-31T23:59:59Z: later (or negative) seconds are no
// time a conversation happened at.
const icMaxUnix = 253402300799

func icTime(field string, v *int64) (int64, error) {
	if v == nil {
		return 0, icErr(field, "is required")
	}
	if *v < 0 || *v > icMaxUnix {
		return 0, icErr(field, "%d is not a Unix time in seconds", *v)
	}
	return *v * 1000, nil
}

// icText turns a part's HTML body into the text the customer read: tags
// dropped (a line break for each block end), entities decoded, outer space
// trimmed. Text size is counted on this, not on the markup.
func icText(body string) string {
	var b strings.Builder
	for i := 0; i < len(body); {
		if body[i] != '<' {
			j := strings.IndexByte(body[i:], '<')
			if j < 0 {
				j = len(body) - i
			}
			b.WriteString(body[i : i+j])
			i += j
			continue
		}
		j := strings.IndexByte(body[i:], '>')
		if j < 0 {
			b.WriteString(body[i:]) // a lone "<" is text
			break
		}
		tag := strings.ToLower(strings.Trim(body[i+1:i+j], "/ "))
		if k := strings.IndexAny(tag, " \t\n"); k >= 0 {
			tag = tag[:k]
		}
		switch tag {
		case "br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "tr", "blockquote", "pre":
			b.WriteByte('\n')
		}
		i += j + 1
	}
	lines := strings.Split(html.UnescapeString(b.String()), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type icBuilder struct {
	t        *transcript.Transcript
	index    map[string]int
	customer string
	present  []string
}

func (b *icBuilder) role(id string) transcript.Role {
	if i, ok := b.index[id]; ok {
		return b.t.Participants[i].Role
	}
	return transcript.RoleUnknown
}

func (b *icBuilder) add(p transcript.Participant) {
	if _, ok := b.index[p.ID]; ok {
		return
	}
	b.index[p.ID] = len(b.t.Participants)
	b.t.Participants = append(b.t.Participants, p)
}

func (b *icBuilder) emit(e transcript.Event) { b.t.Events = append(b.t.Events, e) }

// party maps an author to a participant id: Intercom's ids are per object
// type, so the type is part of ours ("admin:991267561").
func (b *icBuilder) party(field string, a *icAuthor) (string, error) {
	if a == nil {
		return "", icErr(field, "is required")
	}
	if a.Type == nil || *a.Type == "" {
		return "", icErr(field+".type", "is required")
	}
	if a.ID == nil || *a.ID == "" {
		return "", icErr(field+".id", "is required")
	}
	var role transcript.Role
	prefix := *a.Type
	switch *a.Type {
	case "user", "lead", "contact":
		role, prefix = transcript.RoleCustomer, "contact"
	case "admin", "team":
		role = transcript.RoleAgent
	case "bot":
		role = transcript.RoleBot
	default:
		return "", icErr(field+".type", "%q is not one of user, lead, contact, admin, bot, team", *a.Type)
	}
	id := prefix + ":" + *a.ID
	name := ""
	if a.Name != nil {
		name = *a.Name
	}
	if i, ok := b.index[id]; ok {
		if b.t.Participants[i].Name == "" {
			b.t.Participants[i].Name = name
		}
	} else {
		b.add(transcript.Participant{ID: id, Role: role, Name: name})
	}
	if role == transcript.RoleCustomer && b.customer == "" {
		b.customer = id
	}
	return id, nil
}

// note is the coach twin an admin's (or bot's) internal notes are written
// under: notes are never shown to the customer.
func (b *icBuilder) note(id string) string {
	nid := id + "#note"
	if _, ok := b.index[nid]; !ok {
		p := b.t.Participants[b.index[id]]
		b.add(transcript.Participant{ID: nid, Role: transcript.RoleAgent, Name: p.Name, Person: p.PersonRef(), Visibility: transcript.VisibilityCoach})
	}
	return nid
}

func (b *icBuilder) isPresent(id string) bool {
	for _, p := range b.present {
		if p == id {
			return true
		}
	}
	return false
}

func (b *icBuilder) has(role transcript.Role) bool {
	for _, p := range b.present {
		if b.role(p) == role {
			return true
		}
	}
	return false
}

// join: a human taking over from a bot that holds the conversation alone
// is the handoff, written before the join.
func (b *icBuilder) join(id string, at int64, explicit bool) {
	if b.isPresent(id) {
		return
	}
	if b.role(id) == transcript.RoleAgent && b.has(transcript.RoleBot) && !b.has(transcript.RoleAgent) {
		b.emit(transcript.Event{At: at, Type: transcript.EventHandoff})
	}
	b.present = append(b.present, id)
	if explicit {
		b.emit(transcript.Event{At: at, Type: transcript.EventJoined, Participant: id})
	}
}

func (b *icBuilder) leaveAll(at int64, keep string) {
	kept := b.present[:0]
	for _, p := range b.present {
		if p == keep {
			kept = append(kept, p)
			continue
		}
		b.emit(transcript.Event{At: at, Type: transcript.EventLeft, Participant: p, Reason: "quit"})
	}
	b.present = kept
}

// lines writes a part's body and attachments as chat lines of who. A body
// with no words is a line (of size 0) only on a part that is a message
// (the source, a comment, a quick reply) and carries no file; on an action
// part (close, open, assignment, ...) it is no line.
func (b *icBuilder) lines(field string, p *icPart, who string, at int64, automatic, message bool) error {
	if p.Body != nil {
		if text := icText(*p.Body); text != "" || message && len(p.Attachments) == 0 {
			b.emit(transcript.Event{At: at, Type: transcript.EventMessage, Participant: who, Text: text, Automatic: automatic})
		}
	}
	for k, a := range p.Attachments {
		f := fmt.Sprintf("%s.attachments[%d]", field, k)
		if a == nil {
			return icErr(f, "is null")
		}
		file := &transcript.File{}
		if a.Name != nil {
			file.Name = *a.Name
		}
		if a.ContentType != nil {
			file.ContentType = *a.ContentType
		}
		if a.Filesize != nil {
			if *a.Filesize < 0 {
				return icErr(f+".filesize", "must not be negative")
			}
			file.Size = *a.Filesize
		}
		b.emit(transcript.Event{At: at, Type: transcript.EventAttachment, Participant: who, File: file, Automatic: automatic})
	}
	return nil
}

// icAutomatic: an opening message the sender did not type for this
// customer — a Series/outbound message, a legacy campaign or a custom bot.
var icAutomatic = map[string]bool{"automated": true, "campaigns_initiated": true, "operator_initiated": true}

// DecodeIntercom reads one Intercom conversation. sessionId is the
// conversation id.
func DecodeIntercom(data []byte) (*Decoded, error) {
	var c icConversation
	if err := strictjson.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("intercom: %s", lcicJSONErr(err))
	}
	if c.Type == nil || *c.Type != "conversation" {
		return nil, icErr("type", "must be \"conversation\"")
	}
	if c.ID == nil || *c.ID == "" {
		return nil, icErr("id", "is required")
	}
	if !transcript.ValidSessionID(*c.ID) {
		return nil, icErr("id", "%q is not a valid session id (1–128 of A-Z a-z 0-9 . _ : -)", *c.ID)
	}
	start, err := icTime("created_at", c.CreatedAt)
	if err != nil {
		return nil, err
	}
	if c.Source == nil {
		return nil, icErr("source", "is required")
	}
	t := &transcript.Transcript{Version: 1, SessionID: *c.ID, Channel: c.Source.Type}
	b := &icBuilder{t: t, index: map[string]int{}}
	if c.Contacts != nil {
		for i, r := range c.Contacts.Contacts {
			if r == nil || r.ID == nil || *r.ID == "" {
				return nil, icErr(fmt.Sprintf("contacts.contacts[%d].id", i), "is required")
			}
			if _, err := b.party(fmt.Sprintf("contacts.contacts[%d]", i), &icAuthor{Type: icPtr("contact"), ID: r.ID}); err != nil {
				return nil, err
			}
		}
	}
	b.emit(transcript.Event{At: start, Type: transcript.EventStarted})

	// The opening message, at the conversation's creation.
	src, err := b.party("source.author", c.Source.Author)
	if err != nil {
		return nil, err
	}
	if r := b.role(src); r == transcript.RoleAgent || r == transcript.RoleBot {
		b.join(src, start, false)
	}
	if err := b.lines("source", c.Source, src, start, icAutomatic[c.Source.DeliveredAs], true); err != nil {
		return nil, err
	}
	for _, u := range []*string{c.Source.URL, func() *string {
		if c.FirstContactReply != nil {
			return c.FirstContactReply.URL
		}
		return nil
	}()} {
		if u != nil && *u != "" {
			b.emit(transcript.Event{At: start, Type: transcript.EventPage, URL: *u})
		}
	}
	if c.LinkedObjects != nil {
		for _, o := range c.LinkedObjects.Data {
			if o != nil && o.Type == "ticket" && o.ID != "" {
				b.emit(transcript.Event{At: start, Type: transcript.EventTicket, Ticket: o.ID})
			}
		}
	}

	var parts []*icPart
	if c.ConversationParts != nil {
		parts = c.ConversationParts.ConversationParts
	}
	closed := c.State == "closed" || (c.State == "" && c.Open != nil && !*c.Open)
	// The session ends at the last close of a closed conversation; earlier
	// closes were reopened and only send the team away.
	final := -1
	if closed {
		for i, p := range parts {
			if p != nil && p.PartType != nil && *p.PartType == "close" {
				final = i
			}
		}
	}
	last := start
	for i, p := range parts {
		f := fmt.Sprintf("conversation_parts.conversation_parts[%d]", i)
		if p == nil {
			return nil, icErr(f, "is null")
		}
		if p.PartType == nil || *p.PartType == "" {
			return nil, icErr(f+".part_type", "is required")
		}
		at, err := icTime(f+".created_at", p.CreatedAt)
		if err != nil {
			return nil, err
		}
		last = max(last, at)
		who, err := b.party(f+".author", p.Author)
		if err != nil {
			return nil, err
		}
		role := b.role(who)
		switch pt := *p.PartType; pt {
		case "note":
			if role == transcript.RoleCustomer {
				return nil, icErr(f+".author.type", "a note is written by an admin or bot, not a contact")
			}
			if err := b.lines(f, p, b.note(who), at, false, true); err != nil {
				return nil, err
			}
			continue
		case "assignment", "default_assignment", "away_mode_assignment", "assign_and_reopen":
			b.assign(f, p, at)
		}
		if p.Body != nil && icText(*p.Body) != "" || len(p.Attachments) > 0 || *p.PartType == "comment" {
			if role == transcript.RoleAgent || role == transcript.RoleBot {
				b.join(who, at, false)
			}
			isMsg := *p.PartType == "comment" || *p.PartType == "quick_reply"
			if err := b.lines(f, p, who, at, false, isMsg); err != nil {
				return nil, err
			}
		}
		if *p.PartType == "close" {
			if i == final {
				end := transcript.Event{At: at, Type: transcript.EventEnded}
				switch role {
				case transcript.RoleAgent:
					end.Participant, end.Reason = who, "force"
				case transcript.RoleBot:
					end.Participant = who
				case transcript.RoleCustomer:
					end.Participant, end.Reason = who, "quit"
				}
				b.emit(end)
			} else {
				b.leaveAll(at, "")
			}
		}
	}
	if closed && final < 0 {
		// Closed, but the parts we hold (500 at most) show no close.
		b.emit(transcript.Event{At: last, Type: transcript.EventEnded})
	}

	if r := c.ConversationRating; r != nil && r.Rating != nil {
		if *r.Rating < 1 || *r.Rating > 5 {
			return nil, icErr("conversation_rating.rating", "%d is not from 1 to 5", *r.Rating)
		}
		at := last
		if r.CreatedAt != nil {
			if at, err = icTime("conversation_rating.created_at", r.CreatedAt); err != nil {
				return nil, err
			}
		}
		who := b.customer
		if r.Contact != nil && r.Contact.ID != nil && *r.Contact.ID != "" {
			if who, err = b.party("conversation_rating.contact", &icAuthor{Type: icPtr("contact"), ID: r.Contact.ID}); err != nil {
				return nil, err
			}
		}
		ev := transcript.Event{At: at, Type: transcript.EventRating, Participant: who, Score: int(*r.Rating)}
		if r.Remark != nil {
			ev.Comment = *r.Remark
		}
		b.emit(ev)
	}
	if b.customer == "" {
		// Every conversation has its contact; a file without one still
		// gets a card, with a stand-in customer who never speaks.
		b.add(transcript.Participant{ID: "contact:unknown", Role: transcript.RoleCustomer})
	}
	if err := t.Normalize(); err != nil {
		return nil, fmt.Errorf("intercom: %w", err)
	}

	d := &Decoded{Transcript: t}
	if c.Statistics.Kind() == '{' {
		var s icStatistics
		if err := strictjson.Unmarshal(c.Statistics, &s); err != nil {
			return nil, fmt.Errorf("intercom: statistics.%s", lcicJSONErr(err))
		}
		raw, err := json.Marshal(map[string]jsontext.Value{"platform": jsontext.Value(`"intercom"`), "statistics": c.Statistics}, json.Deterministic(true))
		if err != nil {
			return nil, fmt.Errorf("intercom: statistics: %w", err)
		}
		d.Figures = raw
		// Intercom's own first response figure: time_to_admin_reply,
		// seconds, business hours only. A negative one is no figure.
		if s.TimeToAdminReply != nil && *s.TimeToAdminReply >= 0 && *s.TimeToAdminReply <= icMaxUnix {
			ms := *s.TimeToAdminReply * 1000
			d.FirstReplyMs = &ms
		}
	}
	return d, nil
}

// assign applies an assignment part: the assignee (an admin) joins and
// whoever held the conversation leaves; assigning to a team moves it out
// of the bot's hands without naming a person; assigning to nobody
// ("nobody_admin") sends everyone away.
func (b *icBuilder) assign(field string, p *icPart, at int64) {
	a := p.AssignedTo
	switch {
	case a == nil:
		// "null if there has been no change in assignment"
	case a.Type == "admin" && a.ID != nil && *a.ID != "":
		id, _ := b.party(field+".assigned_to", &icAuthor{Type: icPtr("admin"), ID: a.ID})
		if b.isPresent(id) {
			return
		}
		if b.has(transcript.RoleBot) && !b.has(transcript.RoleAgent) {
			b.emit(transcript.Event{At: at, Type: transcript.EventHandoff})
		}
		b.leaveAll(at, "")
		b.join(id, at, true)
	case a.Type == "team":
		if b.has(transcript.RoleBot) && !b.has(transcript.RoleAgent) {
			b.emit(transcript.Event{At: at, Type: transcript.EventHandoff})
			b.leaveAll(at, "")
		}
	default:
		b.leaveAll(at, "")
	}
}

func icPtr[T any](v T) *T { return &v }
