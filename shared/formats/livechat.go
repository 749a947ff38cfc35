package formats

// LiveChat (Text) Agent Chat API v3.x: one chat with every thread and its
// events. The mapping, field by field, is in docs/sources/livechat.md.

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

func init() {
	register(Format{Name: "livechat", Decode: DecodeLiveChat, Detect: detectLiveChat})
}

// lcFile is what a LiveChat fetcher stores for one chat: the chat as
// get_chat/list_archives answer it, and every thread as list_threads
// answers them (events included).
type lcFile struct {
	Chat    *lcChat      `json:"chat"`
	Threads *[]*lcThread `json:"threads"`
}

type lcChat struct {
	ID    *string   `json:"id"`
	Users []*lcUser `json:"users"`
	// Properties: a rating may also sit on the chat (the
	// chat_properties_updated push shows one); the threads' come first.
	Properties *lcThreadProps `json:"properties"`
}

type lcUser struct {
	ID    *string `json:"id"`
	Type  *string `json:"type"`
	Name  string  `json:"name"`
	Email *string `json:"email"`
	// Visibility "agents": the agent was added to the chat seen by agents
	// only (add_user_to_chat), i.e. supervising.
	Visibility string   `json:"visibility"`
	LastVisit  *lcVisit `json:"last_visit"`
}

type lcVisit struct {
	LastPages []*lcPage `json:"last_pages"`
}

type lcPage struct {
	OpenedAt string `json:"opened_at"`
	URL      string `json:"url"`
}

type lcThread struct {
	ID             *string        `json:"id"`
	CreatedAt      *string        `json:"created_at"`
	Active         *bool          `json:"active"`
	Events         []*lcEvent     `json:"events"`
	Properties     *lcThreadProps `json:"properties"`
	Queue          jsontext.Value `json:"queue"`
	QueuesDuration jsontext.Value `json:"queues_duration"`
}

// lcThreadProps holds the one property namespace we read; every other
// namespace (routing, groups, custom ones) is ignored.
type lcThreadProps struct {
	Rating *lcRating `json:"rating"`
}

type lcRating struct {
	Score   jsontext.Value `json:"score"`
	Comment *string        `json:"comment"`
}

type lcEvent struct {
	CreatedAt         *string                   `json:"created_at"`
	Type              *string                   `json:"type"`
	AuthorID          string                    `json:"author_id"`
	Visibility        string                    `json:"visibility"`
	Text              *string                   `json:"text"`
	SystemMessageType string                    `json:"system_message_type"`
	TextVars          map[string]jsontext.Value `json:"text_vars"`
	Name              *string                   `json:"name"`
	ContentType       *string                   `json:"content_type"`
	Size              *int64                    `json:"size"`
	Elements          []*lcElement              `json:"elements"`
}

type lcElement struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
}

// lcErr is a LiveChat decoding error naming the platform field.
func lcErr(field, format string, args ...any) error {
	return fmt.Errorf("livechat: %s: %s", field, fmt.Sprintf(format, args...))
}

// detectLiveChat: the stored file is {"chat": {...}, "threads": [...]}; no
// other format has both keys at the top.
func detectLiveChat(data []byte) bool {
	var probe struct {
		Chat    jsontext.Value `json:"chat"`
		Threads jsontext.Value `json:"threads"`
	}
	if strictjson.Unmarshal(data, &probe) != nil {
		return false
	}
	return probe.Chat.Kind() == '{' && probe.Threads.Kind() == '['
}

// lcRole tells the parties apart. LiveChat lists a bot as a user of type
// "agent" (the Configuration API's bots are agents without a login); what
// sets it apart in chat data is that bots have no e-mail ("Unlike agents,
// bots don't have passwords or emails"), while a human agent's id is the
// e-mail address. So an agent with no email field and no "@" in its id is
// a bot.
func lcRole(u *lcUser) (transcript.Role, bool) {
	switch *u.Type {
	case "customer":
		return transcript.RoleCustomer, true
	case "agent":
		if (u.Email == nil || *u.Email == "") && !strings.Contains(*u.ID, "@") {
			return transcript.RoleBot, true
		}
		return transcript.RoleAgent, true
	}
	return transcript.RoleUnknown, false
}

const lcSystem = "system"

// lcBuilder turns the threads into events, keeping the presence that the
// join/leave bookkeeping (transfers, handoffs) needs.
type lcBuilder struct {
	t        *transcript.Transcript
	index    map[string]int // participant id → index
	byName   map[string]string
	dupName  map[string]bool
	customer string
	present  []string // agents and bots present, in join order
	// hiddenBot: bots added with visibility agents; their lines are
	// whispers.
	hiddenBot map[string]bool
}

func (b *lcBuilder) role(id string) transcript.Role {
	if i, ok := b.index[id]; ok {
		return b.t.Participants[i].Role
	}
	return transcript.RoleUnknown
}

func (b *lcBuilder) add(p transcript.Participant) {
	b.index[p.ID] = len(b.t.Participants)
	b.t.Participants = append(b.t.Participants, p)
}

// author makes sure an event author is a participant. chat.users lists the
// chat's users now; an agent who was transferred away may be missing, and
// a customer never is, so an unknown author is taken for an agent.
func (b *lcBuilder) author(id string) {
	if _, ok := b.index[id]; !ok {
		b.add(transcript.Participant{ID: id, Role: transcript.RoleAgent})
	}
}

// coach returns the id under which an agent's agents-only lines (whispers)
// are written: a twin with visibility coach, the same person.
func (b *lcBuilder) coach(id string) string {
	cid := id + "#coach"
	if _, ok := b.index[cid]; !ok {
		p := b.t.Participants[b.index[id]]
		b.add(transcript.Participant{ID: cid, Role: transcript.RoleAgent, Name: p.Name, Person: p.PersonRef(), Visibility: transcript.VisibilityCoach})
	}
	return cid
}

func (b *lcBuilder) emit(e transcript.Event) { b.t.Events = append(b.t.Events, e) }

func (b *lcBuilder) isPresent(id string) bool {
	for _, p := range b.present {
		if p == id {
			return true
		}
	}
	return false
}

func (b *lcBuilder) humanPresent() bool {
	for _, p := range b.present {
		if b.role(p) == transcript.RoleAgent {
			return true
		}
	}
	return false
}

func (b *lcBuilder) botPresent() bool {
	for _, p := range b.present {
		if b.role(p) == transcript.RoleBot {
			return true
		}
	}
	return false
}

// join records an agent or bot arriving; a human agent arriving while only
// a bot holds the chat is the handoff (bot → live agent), written first.
func (b *lcBuilder) join(id string, at int64, explicit bool) {
	if b.isPresent(id) {
		return
	}
	if b.role(id) == transcript.RoleAgent && b.botPresent() && !b.humanPresent() {
		b.emit(transcript.Event{At: at, Type: transcript.EventHandoff})
	}
	b.present = append(b.present, id)
	if explicit {
		b.emit(transcript.Event{At: at, Type: transcript.EventJoined, Participant: id})
	}
}

func (b *lcBuilder) leave(id string, at int64, reason string) {
	for i, p := range b.present {
		if p == id {
			b.present = append(b.present[:i], b.present[i+1:]...)
			b.emit(transcript.Event{At: at, Type: transcript.EventLeft, Participant: id, Reason: reason})
			return
		}
	}
}

func (b *lcBuilder) leaveAll(at int64, reason string, keep map[string]bool) {
	for _, p := range append([]string(nil), b.present...) {
		if !keep[p] {
			b.leave(p, at, reason)
		}
	}
}

// named resolves a display name from a system message's text_vars to an
// agent or bot: system messages carry names, not ids. Only a name that one
// user alone has is trusted.
func (b *lcBuilder) named(vars map[string]jsontext.Value, key string) string {
	v, ok := vars[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	if b.dupName[s] {
		return ""
	}
	return b.byName[s]
}

// namedList resolves a transfer's targets, which may list several names
// separated by commas (or name a group, which resolves to nobody).
func (b *lcBuilder) namedList(vars map[string]jsontext.Value, key string) []string {
	if id := b.named(vars, key); id != "" {
		return []string{id}
	}
	v, ok := vars[key]
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil
	}
	var ids []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if id := b.byName[n]; id != "" && !b.dupName[n] {
			ids = append(ids, id)
		}
	}
	return ids
}

func lcTime(field string, s *string) (int64, error) {
	if s == nil || *s == "" {
		return 0, lcErr(field, "is required")
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return 0, lcErr(field, "not an RFC 3339 time: %q", *s)
	}
	return transcript.Millis(t), nil
}

// lcScore maps LiveChat's rating to 1–5: the documented score is 1 (good)
// or 0 (bad); the agent app and system messages say "good"/"bad", which
// are taken too. Good is 5, bad is 1.
func lcScore(v jsontext.Value) (int, bool) {
	switch strings.TrimSpace(string(v)) {
	case "1", `"good"`:
		return 5, true
	case "0", `"bad"`:
		return 1, true
	}
	return 0, false
}

// lcUnmarshalErr names the platform field of a JSON error.
func lcUnmarshalErr(err error) error {
	return fmt.Errorf("livechat: %s", lcicJSONErr(err))
}

// lcicJSONErr renders a strict-JSON error with the JSON pointer written as
// a field path (a.b[3].c), the way every platform decoder names fields.
func lcicJSONErr(err error) string {
	var ptr jsontext.Pointer
	var serr *json.SemanticError
	var xerr *jsontext.SyntacticError
	var cause error = err
	switch {
	case errors.As(err, &serr):
		ptr = serr.JSONPointer
		if serr.Err != nil {
			cause = serr.Err
		} else {
			cause = fmt.Errorf("cannot read JSON %s as %v", serr.JSONKind, serr.GoType)
		}
	case errors.As(err, &xerr):
		ptr = xerr.JSONPointer
		cause = xerr.Err
	}
	path := ""
	for tok := range ptr.Tokens() {
		if _, nerr := strconv.Atoi(tok); nerr == nil && tok != "" {
			path += "[" + tok + "]"
			continue
		}
		if path != "" {
			path += "."
		}
		path += tok
	}
	if path == "" {
		return cause.Error()
	}
	return path + ": " + cause.Error()
}

// DecodeLiveChat reads {"chat": <chat>, "threads": [<thread>...]} and
// returns the chat as one transcript: sessionId is the LiveChat chat id,
// each thread one live chat of it.
func DecodeLiveChat(data []byte) (*Decoded, error) {
	var f lcFile
	if err := strictjson.Unmarshal(data, &f); err != nil {
		return nil, lcUnmarshalErr(err)
	}
	if f.Chat == nil {
		return nil, lcErr("chat", "is required")
	}
	if f.Threads == nil {
		return nil, lcErr("threads", "is required")
	}
	c := f.Chat
	if c.ID == nil || *c.ID == "" {
		return nil, lcErr("chat.id", "is required")
	}
	if !transcript.ValidSessionID(*c.ID) {
		return nil, lcErr("chat.id", "%q is not a valid session id (1–128 of A-Z a-z 0-9 . _ : -)", *c.ID)
	}
	t := &transcript.Transcript{Version: 1, SessionID: *c.ID}
	b := &lcBuilder{t: t, index: map[string]int{}, byName: map[string]string{}, dupName: map[string]bool{}, hiddenBot: map[string]bool{}}
	for i, u := range c.Users {
		f := fmt.Sprintf("chat.users[%d]", i)
		if u == nil {
			return nil, lcErr(f, "is null")
		}
		if u.ID == nil || *u.ID == "" {
			return nil, lcErr(f+".id", "is required")
		}
		if u.Type == nil {
			return nil, lcErr(f+".type", "is required")
		}
		role, ok := lcRole(u)
		if !ok {
			return nil, lcErr(f+".type", "%q is not customer or agent", *u.Type)
		}
		if *u.ID == lcSystem {
			return nil, lcErr(f+".id", "%q is reserved", lcSystem)
		}
		if _, dup := b.index[*u.ID]; dup {
			return nil, lcErr(f+".id", "duplicate id %q", *u.ID)
		}
		p := transcript.Participant{ID: *u.ID, Role: role, Name: u.Name}
		switch u.Visibility {
		case "", "all":
		case "agents":
			// A human agent the customer cannot see supervises the chat:
			// a coaching supervisor. A bot has no visibility in v1; its
			// lines go to its coach twin instead (see thread).
			if role == transcript.RoleAgent {
				p.Role, p.Visibility = transcript.RoleSupervisor, transcript.VisibilityCoach
			} else if role == transcript.RoleBot {
				b.hiddenBot[*u.ID] = true
			}
		default:
			return nil, lcErr(f+".visibility", "%q is not all or agents", u.Visibility)
		}
		b.add(p)
		if role == transcript.RoleCustomer {
			if b.customer == "" {
				b.customer = *u.ID
			}
		} else if u.Name != "" {
			if _, seen := b.byName[u.Name]; seen {
				b.dupName[u.Name] = true
			}
			b.byName[u.Name] = *u.ID
		}
	}
	if b.customer == "" {
		// A chat always has its customer; a file without one still gets
		// a card, with a stand-in customer who never speaks.
		b.customer = "customer"
		if _, taken := b.index[b.customer]; taken {
			return nil, lcErr("chat.users", "has no user of type customer")
		}
		b.add(transcript.Participant{ID: b.customer, Role: transcript.RoleCustomer})
	}
	b.add(transcript.Participant{ID: lcSystem, Role: transcript.RoleSystem})

	threads := *f.Threads
	type thr struct {
		th    *lcThread
		at    int64
		field string
	}
	order := make([]thr, 0, len(threads))
	for i, th := range threads {
		field := fmt.Sprintf("threads[%d]", i)
		if th == nil {
			return nil, lcErr(field, "is null")
		}
		if th.ID == nil || *th.ID == "" {
			return nil, lcErr(field+".id", "is required")
		}
		at, err := lcTime(field+".created_at", th.CreatedAt)
		if err != nil {
			return nil, err
		}
		if th.Active == nil {
			return nil, lcErr(field+".active", "is required")
		}
		order = append(order, thr{th, at, field})
	}
	// list_threads answers newest first by default; the chat's story runs
	// oldest first.
	sort.SliceStable(order, func(i, j int) bool { return order[i].at < order[j].at })

	var figures []map[string]jsontext.Value
	var rating *transcript.Event
	lastEnd := int64(-1)
	for n, o := range order {
		th, field := o.th, o.field
		last := n == len(order)-1
		if n == 0 {
			b.emit(transcript.Event{At: o.at, Type: transcript.EventStarted})
		} else {
			b.emit(transcript.Event{At: o.at, Type: transcript.EventJoined, Participant: b.customer})
		}
		if th.QueuesDuration != nil || th.Queue != nil {
			fig := map[string]jsontext.Value{"id": jsontext.Value(strconv.Quote(*th.ID))}
			if th.Queue != nil {
				fig["queue"] = th.Queue
			}
			if th.QueuesDuration != nil {
				fig["queues_duration"] = th.QueuesDuration
			}
			figures = append(figures, fig)
		}
		end, closing, ratedAt, err := b.thread(th, field, o.at)
		if err != nil {
			return nil, err
		}
		lastEnd = end
		if th.Properties != nil && th.Properties.Rating != nil && th.Properties.Rating.Score != nil {
			r := th.Properties.Rating
			score, ok := lcScore(r.Score)
			if !ok {
				return nil, lcErr(field+".properties.rating.score", "%s is not 1 (good) or 0 (bad)", string(r.Score))
			}
			at := end
			if ratedAt >= 0 {
				at = ratedAt
			}
			ev := transcript.Event{At: at, Type: transcript.EventRating, Participant: b.customer, Score: score}
			if r.Comment != nil {
				ev.Comment = *r.Comment
			}
			rating = &ev // the latest rated thread's rating is the chat's
		}
		if *th.Active {
			continue // still going: no end, the session is active
		}
		b.closeThread(end, closing, last)
	}
	if rating == nil && lastEnd >= 0 && c.Properties != nil && c.Properties.Rating != nil && c.Properties.Rating.Score != nil {
		r := c.Properties.Rating
		score, ok := lcScore(r.Score)
		if !ok {
			return nil, lcErr("chat.properties.rating.score", "%s is not 1 (good) or 0 (bad)", string(r.Score))
		}
		ev := transcript.Event{At: lastEnd, Type: transcript.EventRating, Participant: b.customer, Score: score}
		if r.Comment != nil {
			ev.Comment = *r.Comment
		}
		rating = &ev
	}
	if rating != nil {
		b.emit(*rating)
	}
	if err := b.pages(c); err != nil {
		return nil, err
	}
	if err := t.Normalize(); err != nil {
		return nil, fmt.Errorf("livechat: %w", err)
	}
	d := &Decoded{Transcript: t}
	if len(figures) > 0 {
		raw, err := json.Marshal(map[string]any{"platform": "livechat", "threads": figures}, json.Deterministic(true))
		if err != nil {
			return nil, fmt.Errorf("livechat: figures: %w", err)
		}
		d.Figures = raw
	}
	return d, nil
}

// thread writes one thread's events and returns when it ended (its closing
// system message, else its last event, else its creation), the closing
// system_message_type ("" when none) and when the rating was given (-1
// when no rating system message says).
func (b *lcBuilder) thread(th *lcThread, field string, start int64) (end int64, closing *lcEvent, ratedAt int64, err error) {
	type ev struct {
		e  *lcEvent
		at int64
		i  int
	}
	evs := make([]ev, 0, len(th.Events))
	for j, e := range th.Events {
		f := fmt.Sprintf("%s.events[%d]", field, j)
		if e == nil {
			return 0, nil, 0, lcErr(f, "is null")
		}
		at, err := lcTime(f+".created_at", e.CreatedAt)
		if err != nil {
			return 0, nil, 0, err
		}
		if e.Type == nil || *e.Type == "" {
			return 0, nil, 0, lcErr(f+".type", "is required")
		}
		evs = append(evs, ev{e, at, j})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	end, ratedAt = start, -1
	for _, x := range evs {
		e, at := x.e, x.at
		f := fmt.Sprintf("%s.events[%d]", field, x.i)
		if closing == nil {
			end = at // the thread ends at its closing message, else its last event
		}
		agentsOnly := e.Visibility == "agents"
		switch *e.Type {
		case "message", "rich_message", "file":
			if e.AuthorID == "" {
				return 0, nil, 0, lcErr(f+".author_id", "is required")
			}
			if e.AuthorID == lcSystem {
				return 0, nil, 0, lcErr(f+".author_id", "%q is reserved", lcSystem)
			}
			b.author(e.AuthorID)
			who := e.AuthorID
			role := b.role(who)
			hidden := b.t.Participants[b.index[who]].Visibility == transcript.VisibilityCoach
			switch {
			case hidden:
				// a supervisor seen by agents only: every line is coaching
			case agentsOnly && role != transcript.RoleCustomer, b.hiddenBot[who]:
				who = b.coach(who)
			case role == transcript.RoleAgent || role == transcript.RoleBot:
				b.join(who, at, false)
			}
			out := transcript.Event{At: at, Type: transcript.EventMessage, Participant: who}
			switch *e.Type {
			case "message":
				if e.Text != nil {
					out.Text = *e.Text
				}
			case "rich_message":
				var parts []string
				for _, el := range e.Elements {
					if el == nil {
						continue
					}
					for _, s := range []string{el.Title, el.Subtitle} {
						if s != "" {
							parts = append(parts, s)
						}
					}
				}
				out.Text = strings.Join(parts, "\n")
			case "file":
				file := &transcript.File{}
				if e.Name != nil {
					file.Name = *e.Name
				}
				if e.ContentType != nil {
					file.ContentType = *e.ContentType
				}
				if e.Size != nil {
					if *e.Size < 0 {
						return 0, nil, 0, lcErr(f+".size", "must not be negative")
					}
					file.Size = *e.Size
				}
				out.Type, out.File = transcript.EventAttachment, file
			}
			b.emit(out)
		case "system_message":
			if e.SystemMessageType == "" {
				return 0, nil, 0, lcErr(f+".system_message_type", "is required")
			}
			if b.system(e, at) && closing == nil {
				closing = e
			}
			switch e.SystemMessageType {
			case "rating.chat_rated", "rating.chat_commented":
				ratedAt = at
			}
			if !agentsOnly && e.Text != nil && *e.Text != "" {
				b.emit(transcript.Event{At: at, Type: transcript.EventMessage, Participant: lcSystem, Text: *e.Text, Automatic: true})
			}
		default:
			// filled_form (pre-chat/post-chat survey answers), form,
			// custom and newer types are no chat lines.
		}
	}
	return end, closing, ratedAt, nil
}

// lcClosing lists the system messages that archive (close) a thread and
// what they say about who ended it and why.
var lcClosing = map[string]struct{ by, reason string }{
	"manual_archived_agent":                {"agent", "force"},
	"manual_archived_customer":             {"customer", "quit"},
	"archived_customer_disconnected":       {"customer-left", "disconnect"},
	"customer_banned":                      {"agent", "force"},
	"routing.archived_inactive":            {"", "inactive"},
	"routing.archived_disconnected":        {"", "disconnect"},
	"routing.archived_deleted":             {"", ""},
	"routing.archived_offline":             {"", ""},
	"routing.archived_other":               {"", ""},
	"routing.archived_remotely_signed_out": {"", ""},
	"routing.archived_signed_out":          {"", ""},
	"system_archived":                      {"", ""},
}

// system applies a system message's joins, leaves and handoffs and
// reports whether it closes the thread.
func (b *lcBuilder) system(e *lcEvent, at int64) bool {
	v := e.TextVars
	switch typ := e.SystemMessageType; {
	case typ == "routing.assigned" || typ == "agent_added" || typ == "agent_joined":
		if id := b.named(v, "agent"); id != "" {
			b.join(id, at, true)
		}
	case typ == "agent_left" || typ == "agent_removed":
		if id := b.named(v, "agent"); id != "" {
			b.leave(id, at, "quit")
		}
	case typ == "chat_transferred":
		// After a transfer the chat belongs to its targets alone (the
		// chat_transferred webhook: "IDs of the groups and agents the chat
		// is assigned to after the transfer"): whoever held it leaves.
		// A transfer to a group names no agent: the next agent joins at
		// their assignment message or first line.
		targets := b.namedList(v, "targets")
		keep := map[string]bool{}
		for _, id := range targets {
			keep[id] = true
		}
		human := false
		for _, id := range targets {
			if b.role(id) == transcript.RoleAgent {
				human = true
			}
		}
		if len(targets) == 0 || human {
			// Out of the bot's hands and towards people: a handoff.
			if b.botPresent() && !b.humanPresent() {
				b.emit(transcript.Event{At: at, Type: transcript.EventHandoff})
			}
		}
		b.leaveAll(at, "quit", keep)
		for _, id := range targets {
			b.join(id, at, true)
		}
	case strings.HasPrefix(typ, "routing.assigned_"):
		reason := "quit"
		if typ == "routing.assigned_disconnected" {
			reason = "disconnect"
		}
		if id := b.named(v, "agent_removed"); id != "" {
			b.leave(id, at, reason)
		}
		if id := b.named(v, "agent_added"); id != "" {
			b.join(id, at, true)
		}
	case strings.HasPrefix(typ, "routing.unassigned_"):
		reason := "quit"
		if typ == "routing.unassigned_disconnected" {
			reason = "disconnect"
		}
		if id := b.named(v, "agent"); id != "" {
			b.leave(id, at, reason)
		} else {
			b.leaveAll(at, reason, nil)
		}
	default:
		_, closes := lcClosing[typ]
		return closes
	}
	return false
}

// closeThread ends a thread that is no longer active. The chat's last
// thread ends the session; an earlier one only sends everyone away (the
// customer comes back with the next thread).
func (b *lcBuilder) closeThread(at int64, closing *lcEvent, last bool) {
	var how struct{ by, reason string }
	if closing != nil {
		how = lcClosing[closing.SystemMessageType]
	}
	if !last {
		b.leaveAll(at, "quit", nil)
		reason := "quit"
		if how.by == "customer-left" {
			reason = "disconnect"
		}
		b.emit(transcript.Event{At: at, Type: transcript.EventLeft, Participant: b.customer, Reason: reason})
		return
	}
	end := transcript.Event{At: at, Type: transcript.EventEnded, Reason: how.reason}
	switch how.by {
	case "agent":
		// The message names the agent; without a unique name, the one
		// human agent present closed it.
		if id := b.named(closing.TextVars, "agent"); id != "" {
			end.Participant = id
		} else if id := b.lastHuman(); id != "" {
			end.Participant = id
		}
	case "customer":
		end.Participant = b.customer
	case "customer-left":
		b.emit(transcript.Event{At: at, Type: transcript.EventLeft, Participant: b.customer, Reason: "disconnect"})
		end.Reason = ""
	}
	if end.Participant == "" && how.by == "agent" {
		end.Reason = "" // no one to pin it on: the system closed it
	}
	b.emit(end)
}

func (b *lcBuilder) lastHuman() string {
	for i := len(b.present) - 1; i >= 0; i-- {
		if b.role(b.present[i]) == transcript.RoleAgent {
			return b.present[i]
		}
	}
	return ""
}

// pages writes the customer's last visit's pages. They may predate the
// chat; a page never moves the session start, so an earlier one is put at
// the start.
func (b *lcBuilder) pages(c *lcChat) error {
	start := int64(-1)
	for _, e := range b.t.Events {
		if e.Type == transcript.EventStarted {
			start = e.At
			break
		}
	}
	if start < 0 {
		return nil // no thread: nothing to hang pages on
	}
	for i, u := range c.Users {
		if u.LastVisit == nil || *u.Type != "customer" {
			continue
		}
		for j, p := range u.LastVisit.LastPages {
			f := fmt.Sprintf("chat.users[%d].last_visit.last_pages[%d]", i, j)
			if p == nil || p.URL == "" {
				continue
			}
			at := start
			if p.OpenedAt != "" {
				t, err := lcTime(f+".opened_at", &p.OpenedAt)
				if err != nil {
					return err
				}
				at = max(t, start)
			}
			b.emit(transcript.Event{At: at, Type: transcript.EventPage, URL: p.URL})
		}
	}
	return nil
}
