package formats

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Microsoft Bot Framework transcripts (format "botframework"): the JSON
// array of Activities that the Bot Framework Emulator saves as a
// .transcript file and that TranscriptLoggerMiddleware writes to a
// transcript store. docs/sources/botframework.md has the full mapping; in
// short:
//
//   - sessionId is conversation.id when it is a valid sessionId, else
//     BotFrameworkSessionID's "bf-" + SHA-256 form (ids such as
//     "…|livechat" or Teams' "19:…@thread.v2" are not); channel is
//     channelId, language the first locale, tenant empty, async false.
//   - accounts are told apart by role: "user" → customer, "bot" or
//     "skill" → bot, "agent" → agent (Bot Framework has no human agent;
//     an agent hub or relay that logs the human agent's activities marks
//     their account role "agent"; this is our convention, documented).
//     An account without a role takes the role its counterpart implies
//     (the recipient of a user is a bot and the other way round).
//   - message → message (text; file attachments with a contentUrl →
//     attachment, size 0; cards are not files: a message of only cards is a
//     line of text ""); conversationUpdate membersAdded/membersRemoved →
//     joined/left of customers and agents (bots take part by speaking);
//     endOfConversation → ended by its sender, code → reason; event or
//     handoff activity "handoff.initiate" → handoff; "handoff.status"
//     "completed" → every agent present leaves; invoke
//     "message/submitAction" with actionName "feedback" (the Teams
//     feedback buttons) → rating, like 5 / dislike 1.
//
// Bot Framework reports no per-conversation figures: Figures and
// FirstReplyMs are always nil.
func init() {
	register(Format{Name: "botframework", Decode: decodeBotFramework, Detect: detectBotFramework})
}

// BotFrameworkSessionID is the sessionId of a Bot Framework conversation:
// its conversation.id when that is 1 to 128 characters of A-Z a-z 0-9 . _
// : -, else "bf-" followed by the lower-case hex SHA-256 of the id's UTF-8
// bytes. A bot registering its card computes the same value (any language
// has SHA-256), so cards and transcripts meet without a lookup table.
func BotFrameworkSessionID(conversationID string) string {
	if transcript.ValidSessionID(conversationID) {
		return conversationID
	}
	sum := sha256.Sum256([]byte(conversationID))
	return "bf-" + hex.EncodeToString(sum[:])
}

type bfAccount struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	AADObjectID string `json:"aadObjectId"`
}

type bfConversation struct {
	ID string `json:"id"`
}

type bfAttachment struct {
	ContentType string         `json:"contentType"`
	ContentURL  string         `json:"contentUrl"`
	Name        string         `json:"name"`
	Content     jsontext.Value `json:"content"`
}

type bfActivity struct {
	Type           string          `json:"type"`
	Timestamp      string          `json:"timestamp"`
	LocalTimestamp string          `json:"localTimestamp"`
	ChannelID      string          `json:"channelId"`
	From           *bfAccount      `json:"from"`
	Recipient      *bfAccount      `json:"recipient"`
	Conversation   *bfConversation `json:"conversation"`
	Locale         string          `json:"locale"`
	Text           *string         `json:"text"`
	Attachments    []bfAttachment  `json:"attachments"`
	MembersAdded   []bfAccount     `json:"membersAdded"`
	MembersRemoved []bfAccount     `json:"membersRemoved"`
	Name           string          `json:"name"`
	Value          jsontext.Value  `json:"value"`
	Code           string          `json:"code"`
}

// detectBotFramework: a top-level array of objects, the first with a
// string "type" and a "from" or "conversation" object.
func detectBotFramework(data []byte) bool {
	d := bytes.TrimLeft(data, " \t\r\n")
	if len(d) == 0 || d[0] != '[' {
		return false
	}
	var probe []struct {
		Type         *string                   `json:"type"`
		From         map[string]jsontext.Value `json:"from"`
		Conversation map[string]jsontext.Value `json:"conversation"`
	}
	if strictjson.Unmarshal(data, &probe) != nil || len(probe) == 0 {
		return false
	}
	p := probe[0]
	return p.Type != nil && (p.From != nil || p.Conversation != nil)
}

func bfErr(field, format string, args ...any) error {
	if field == "" {
		return fmt.Errorf("botframework: "+format, args...)
	}
	return fmt.Errorf("botframework: %s: %s", field, fmt.Sprintf(format, args...))
}

func decodeBotFramework(data []byte) (*Decoded, error) {
	t, err := buildBotFramework(data)
	if err != nil {
		return nil, err
	}
	if err := t.Normalize(); err != nil {
		return nil, fmt.Errorf("botframework: %w", err)
	}
	return &Decoded{Transcript: t}, nil
}

// bfRole parses an account role; "" is unknown.
func bfRole(s, field string) (transcript.Role, error) {
	switch s {
	case "":
		return transcript.RoleUnknown, nil
	case "user":
		return transcript.RoleCustomer, nil
	case "bot", "skill":
		return transcript.RoleBot, nil
	case "agent":
		return transcript.RoleAgent, nil
	}
	return 0, bfErr(field, "%q is not one of user, bot, skill, agent", s)
}

type bfPeople struct {
	t     *transcript.Transcript
	role  map[string]transcript.Role
	name  map[string]string
	aad   map[string]string
	index map[string]bool
}

// use returns the transcript id of account id, adding the participant on
// first use; ok is false when the account's role is unknown.
func (pp *bfPeople) use(id string) (string, transcript.Role, bool) {
	r := pp.role[id]
	if id == "" || r == transcript.RoleUnknown {
		return "", r, false
	}
	if !pp.index[id] {
		pp.index[id] = true
		pp.t.Participants = append(pp.t.Participants, transcript.Participant{ID: id, Role: r, Name: pp.name[id], Person: pp.aad[id]})
	}
	return id, r, true
}

// bfIsCard tells a card (rendered content, not a file) from a file.
func bfIsCard(a *bfAttachment) bool {
	return strings.HasPrefix(a.ContentType, "application/vnd.microsoft.card.") || a.ContentURL == ""
}

// buildBotFramework maps the activities to a transcript without
// normalising it.
func buildBotFramework(data []byte) (*transcript.Transcript, error) {
	if d := bytes.TrimLeft(data, " \t\r\n"); len(d) > 0 && d[0] != '[' {
		return nil, bfErr("", "a transcript is a JSON array of activities")
	}
	var acts []bfActivity
	if err := strictjson.Unmarshal(data, &acts); err != nil {
		return nil, gcbfJSONError("botframework", err)
	}
	if len(acts) == 0 {
		return nil, bfErr("", "the transcript has no activities")
	}
	t := &transcript.Transcript{Version: 1}
	pp := &bfPeople{t: t, role: map[string]transcript.Role{}, name: map[string]string{}, aad: map[string]string{}, index: map[string]bool{}}

	// Pass 1: the conversation, and every account's role and name.
	convID := ""
	note := func(a *bfAccount, field string) error {
		if a == nil || a.ID == "" {
			return nil
		}
		r, err := bfRole(a.Role, field+".role")
		if err != nil {
			return err
		}
		if r != transcript.RoleUnknown {
			if had := pp.role[a.ID]; had != transcript.RoleUnknown && had != r {
				return bfErr(field+".role", "account %q is a %s in an earlier activity", a.ID, bfRoleWord(had))
			}
			pp.role[a.ID] = r
		}
		if a.Name != "" && pp.name[a.ID] == "" {
			pp.name[a.ID] = a.Name
		}
		if a.AADObjectID != "" && pp.aad[a.ID] == "" {
			pp.aad[a.ID] = a.AADObjectID
		}
		return nil
	}
	for i := range acts {
		a := &acts[i]
		f := fmt.Sprintf("[%d]", i)
		if a.Type == "" {
			return nil, bfErr(f+".type", "is required")
		}
		if a.Conversation == nil || a.Conversation.ID == "" {
			return nil, bfErr(f+".conversation.id", "is required")
		}
		if i == 0 {
			convID = a.Conversation.ID
		} else if a.Conversation.ID != convID {
			return nil, bfErr(f+".conversation.id", "%q differs from the first activity's %q: a transcript is one conversation", a.Conversation.ID, convID)
		}
		if err := note(a.From, f+".from"); err != nil {
			return nil, err
		}
		if err := note(a.Recipient, f+".recipient"); err != nil {
			return nil, err
		}
		for j := range a.MembersAdded {
			if err := note(&a.MembersAdded[j], fmt.Sprintf("%s.membersAdded[%d]", f, j)); err != nil {
				return nil, err
			}
		}
		for j := range a.MembersRemoved {
			if err := note(&a.MembersRemoved[j], fmt.Sprintf("%s.membersRemoved[%d]", f, j)); err != nil {
				return nil, err
			}
		}
		if t.Channel == "" {
			t.Channel = a.ChannelID
		}
		if t.Language == "" {
			t.Language = a.Locale
		}
	}
	// An account without a role: the counterpart of a user is a bot, the
	// counterpart of a bot or an agent is the customer.
	for i := range acts {
		a := &acts[i]
		if a.From == nil || a.Recipient == nil || a.From.ID == "" || a.Recipient.ID == "" {
			continue
		}
		fr, rr := pp.role[a.From.ID], pp.role[a.Recipient.ID]
		switch {
		case fr == transcript.RoleUnknown && rr == transcript.RoleCustomer:
			pp.role[a.From.ID] = transcript.RoleBot
		case fr == transcript.RoleUnknown && (rr == transcript.RoleBot || rr == transcript.RoleAgent):
			pp.role[a.From.ID] = transcript.RoleCustomer
		case rr == transcript.RoleUnknown && fr == transcript.RoleCustomer:
			pp.role[a.Recipient.ID] = transcript.RoleBot
		case rr == transcript.RoleUnknown && (fr == transcript.RoleBot || fr == transcript.RoleAgent):
			pp.role[a.Recipient.ID] = transcript.RoleCustomer
		}
	}
	t.SessionID = BotFrameworkSessionID(convID)

	// Pass 2: the events, in activity order.
	ev := &t.Events
	add := func(e transcript.Event) { *ev = append(*ev, e) }
	var present []string // agents present, for handoff.status "completed"
	isPresent := func(id string) int {
		for k, p := range present {
			if p == id {
				return k
			}
		}
		return -1
	}
	enter := func(id string) {
		if isPresent(id) < 0 {
			present = append(present, id)
		}
	}
	leave := func(id string) {
		if k := isPresent(id); k >= 0 {
			present = append(present[:k], present[k+1:]...)
		}
	}
	// The activities that say something about the chat, in time order
	// (stable: a transcript store lists them in order already, and equal
	// instants keep the file's order), so that presence is followed in
	// the order things happened.
	type timed struct {
		i  int
		at int64
	}
	var todo []timed
	for i := range acts {
		a := &acts[i]
		mapped := false
		switch a.Type {
		case "message", "conversationUpdate", "endOfConversation":
			mapped = true
		case "event", "handoff":
			mapped = a.Name == "handoff.initiate" || a.Name == "handoff.status"
		case "invoke":
			mapped = a.Name == "message/submitAction"
		}
		if !mapped {
			continue // typing, trace, other events and invokes say nothing about the chat
		}
		at, err := bfTime(a, fmt.Sprintf("[%d]", i))
		if err != nil {
			return nil, err
		}
		todo = append(todo, timed{i, at})
	}
	sort.SliceStable(todo, func(x, y int) bool { return todo[x].at < todo[y].at })
	if len(todo) > 0 {
		add(transcript.Event{At: todo[0].at, Type: transcript.EventStarted})
	}
	for _, td := range todo {
		i, at := td.i, td.at
		a := &acts[i]
		f := fmt.Sprintf("[%d]", i)
		sender := func() (string, transcript.Role, error) {
			if a.From == nil || a.From.ID == "" {
				return "", 0, bfErr(f+".from.id", "is required")
			}
			id, r, ok := pp.use(a.From.ID)
			if !ok {
				return "", 0, bfErr(f+".from.role", "is absent and cannot be told from the other activities (user, bot or agent)")
			}
			return id, r, nil
		}
		switch a.Type {
		case "message":
			who, r, err := sender()
			if err != nil {
				return nil, err
			}
			if r == transcript.RoleAgent {
				enter(who)
			}
			text := ""
			if a.Text != nil {
				text = *a.Text
			}
			var files []transcript.File
			for j := range a.Attachments {
				att := &a.Attachments[j]
				if !bfIsCard(att) {
					files = append(files, transcript.File{Name: att.Name, ContentType: att.ContentType})
				}
			}
			if text != "" || len(files) == 0 {
				add(transcript.Event{At: at, Type: transcript.EventMessage, Participant: who, Text: text})
			}
			for j := range files {
				file := files[j]
				add(transcript.Event{At: at, Type: transcript.EventAttachment, Participant: who, File: &file})
			}
		case "conversationUpdate":
			// Bots take part by speaking: their joins and leaves are not
			// events, and a bot that never speaks is no participant.
			for j := range a.MembersAdded {
				if pp.role[a.MembersAdded[j].ID] == transcript.RoleBot {
					continue
				}
				if id, r, ok := pp.use(a.MembersAdded[j].ID); ok {
					add(transcript.Event{At: at, Type: transcript.EventJoined, Participant: id})
					if r == transcript.RoleAgent {
						enter(id)
					}
				}
			}
			for j := range a.MembersRemoved {
				if pp.role[a.MembersRemoved[j].ID] == transcript.RoleBot {
					continue
				}
				if id, _, ok := pp.use(a.MembersRemoved[j].ID); ok {
					add(transcript.Event{At: at, Type: transcript.EventLeft, Participant: id})
					leave(id)
				}
			}
		case "endOfConversation":
			e := transcript.Event{At: at, Type: transcript.EventEnded}
			r := transcript.RoleUnknown
			if a.From != nil {
				e.Participant, r, _ = pp.use(a.From.ID)
			}
			switch a.Code {
			case "completedSuccessfully":
				if r == transcript.RoleCustomer {
					e.Reason = "quit"
				} else if r != transcript.RoleUnknown {
					e.Reason = "force"
				}
			case "userCancelled":
				e.Reason = "quit"
			case "botTimedOut":
				e.Reason = "inactive"
			case "botIssuedInvalidMessage":
				e.Reason = "error"
			case "channelFailed":
				e.Reason = "disconnect"
			}
			add(e)
		case "event", "handoff":
			if a.Name == "handoff.initiate" {
				add(transcript.Event{At: at, Type: transcript.EventHandoff})
				continue
			}
			var st struct {
				State *string `json:"state"`
			}
			if err := bfValue(a.Value, &st, f); err != nil {
				return nil, err
			}
			if st.State == nil {
				return nil, bfErr(f+".value.state", "is required for handoff.status (accepted, failed, completed)")
			}
			if *st.State == "completed" {
				for _, id := range present {
					add(transcript.Event{At: at, Type: transcript.EventLeft, Participant: id})
				}
				present = present[:0]
			}
		case "invoke":
			var fb struct {
				ActionName  string `json:"actionName"`
				ActionValue *struct {
					Reaction *string        `json:"reaction"`
					Feedback jsontext.Value `json:"feedback"`
				} `json:"actionValue"`
			}
			if err := bfValue(a.Value, &fb, f); err != nil {
				return nil, err
			}
			if fb.ActionName != "feedback" {
				continue
			}
			if fb.ActionValue == nil || fb.ActionValue.Reaction == nil {
				return nil, bfErr(f+".value.actionValue.reaction", "is required for feedback (like or dislike)")
			}
			e := transcript.Event{At: at, Type: transcript.EventRating, Comment: bfFeedbackText(fb.ActionValue.Feedback)}
			switch *fb.ActionValue.Reaction {
			case "like":
				e.Score = 5
			case "dislike":
				e.Score = 1
			default:
				return nil, bfErr(f+".value.actionValue.reaction", "%q is not like or dislike", *fb.ActionValue.Reaction)
			}
			if a.From != nil {
				e.Participant, _, _ = pp.use(a.From.ID)
			}
			add(e)
		}
	}
	return t, nil
}

// bfTime is the activity's timestamp (the channel's UTC record), else its
// localTimestamp (the sender's clock, with its offset).
func bfTime(a *bfActivity, f string) (int64, error) {
	s, field := a.Timestamp, f+".timestamp"
	if s == "" {
		s, field = a.LocalTimestamp, f+".localTimestamp"
	}
	if s == "" {
		return 0, bfErr(f+".timestamp", "is required")
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, bfErr(field, "%q is not an ISO 8601 date-time", s)
	}
	return tm.UnixMilli(), nil
}

// bfValue reads an activity's value strictly into v; an absent value
// leaves v zero.
func bfValue(raw jsontext.Value, v any, f string) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := strictjson.Unmarshal(raw, v); err != nil {
		field, what := gcbfJSONParts(err)
		switch {
		case field == "":
			field = f + ".value"
		case field[0] == '[':
			field = f + ".value" + field
		default:
			field = f + ".value." + field
		}
		return bfErr(field, "%s", what)
	}
	return nil
}

// bfFeedbackText is the comment of a Teams feedback: "feedback" is a JSON
// text such as {"feedbackText":"…"} (or that object itself); anything else
// that is a string is the comment as written.
func bfFeedbackText(raw jsontext.Value) string {
	if len(raw) == 0 {
		return ""
	}
	var obj struct {
		FeedbackText string `json:"feedbackText"`
	}
	var s string
	if strictjson.Unmarshal(raw, &s) == nil {
		if strictjson.Unmarshal([]byte(s), &obj) == nil {
			return obj.FeedbackText
		}
		return s
	}
	if strictjson.Unmarshal(raw, &obj) == nil {
		return obj.FeedbackText
	}
	return ""
}

func bfRoleWord(r transcript.Role) string {
	switch r {
	case transcript.RoleCustomer:
		return "user"
	case transcript.RoleAgent:
		return "agent"
	}
	return "bot"
}
