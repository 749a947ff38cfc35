package formats

import (
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Rocket.Chat Omnichannel: {"room": <the livechat room (t "l")>, "messages":
// [<every message of the room, as the history call answers them>]}
// (docs/sources/rocketchat.md has the mapping and its sources).

func init() {
	register(Format{Name: "rocketchat", Decode: DecodeRocketChat, Detect: detectRocketChat})
}

type rcFile struct {
	Room     *rcRoom     `json:"room"`
	Messages []rcMessage `json:"messages"`
}

type rcUser struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

type rcRoom struct {
	ID       *string        `json:"_id"`
	T        string         `json:"t"`
	Fname    string         `json:"fname"`
	V        *rcVisitor     `json:"v"`
	TS       jsontext.Value `json:"ts"`
	ClosedAt jsontext.Value `json:"closedAt"`
	Closer   string         `json:"closer"`
	ClosedBy *rcUser        `json:"closedBy"`
	Metrics  *struct {
		Response jsontext.Value `json:"response"`
		Reaction jsontext.Value `json:"reaction"`
	} `json:"metrics"`
	Source *struct {
		Type string `json:"type"`
	} `json:"source"`
	SurveyFeedback *struct {
		Satisfaction       *string `json:"satisfaction"`
		AdditionalFeedback *string `json:"additionalFeedback"`
	} `json:"surveyFeedback"`
}

type rcVisitor struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Token    string `json:"token"`
}

type rcMessage struct {
	T          string         `json:"t"`
	Msg        *string        `json:"msg"`
	TS         jsontext.Value `json:"ts"`
	U          *rcUser        `json:"u"`
	Token      string         `json:"token"`
	Bot        jsontext.Value `json:"bot"`
	File       *rcFileInfo    `json:"file"`
	Files      []rcFileInfo   `json:"files"`
	Navigation *struct {
		Page *struct {
			Location *struct {
				Href string `json:"href"`
			} `json:"location"`
		} `json:"page"`
	} `json:"navigation"`
}

type rcFileInfo struct {
	Name *string `json:"name"`
	Type *string `json:"type"`
	Size *int64  `json:"size"`
}

// DecodeRocketChat maps one Rocket.Chat livechat room and its messages to transcript v1.
func DecodeRocketChat(data []byte) (*Decoded, error) {
	var in rcFile
	if err := strictjson.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("rocketchat: %w", err)
	}
	r := in.Room
	if r == nil {
		return nil, fmt.Errorf("rocketchat: room: is required")
	}
	if r.ID == nil || *r.ID == "" {
		return nil, fmt.Errorf("rocketchat: room._id: is required")
	}
	if !transcript.ValidSessionID(*r.ID) {
		return nil, fmt.Errorf("rocketchat: room._id: %q is not a valid sessionId (1 to 128 characters of A-Z a-z 0-9 . _ : -)", clipText(*r.ID))
	}
	if r.T != "" && r.T != "l" {
		return nil, fmt.Errorf("rocketchat: room.t: %q is not a livechat room (l)", clipText(r.T))
	}
	b := newBuilder("rocketchat", *r.ID)
	if r.Source != nil && len(r.Source.Type) <= 64 {
		b.t.Channel = r.Source.Type
	}
	var visitorID, visitorName string
	if r.V != nil {
		visitorID, visitorName = r.V.ID, r.V.Name
		if visitorName == "" {
			visitorName = r.V.Username
		}
		if visitorName == "" {
			visitorName = r.Fname
		}
	}
	// A user is a bot when any of their messages carries "bot" (set for
	// messages sent by bots and apps) or when they closed the room as one.
	bots := map[string]bool{}
	for _, m := range in.Messages {
		if m.U != nil && len(m.Bot) > 0 && m.Bot.Kind() != 'n' && m.Bot.Kind() != 'f' {
			bots[m.U.ID] = true
		}
	}
	if r.Closer == "bot" && r.ClosedBy != nil {
		bots[r.ClosedBy.ID] = true
	}
	who := func(u *rcUser, token, f string) (string, error) {
		if u == nil || u.ID == "" {
			if token != "" {
				id := visitorID
				if id == "" {
					id = "visitor"
				}
				return b.participant(id, transcript.RoleCustomer, visitorName, ""), nil
			}
			return "", fmt.Errorf("%s.u._id: is required", f)
		}
		if u.ID == "rocket.cat" && token == "" {
			// Rocket.Chat's own system user.
			return b.system(), nil
		}
		name := u.Name
		if name == "" {
			name = u.Username
		}
		switch {
		case token != "" || u.ID == visitorID:
			return b.participant(u.ID, transcript.RoleCustomer, name, ""), nil
		case bots[u.ID]:
			return b.participant(u.ID, transcript.RoleBot, name, ""), nil
		}
		return b.participant(u.ID, transcript.RoleAgent, name, ""), nil
	}
	// visitor is the room's customer, also when they never wrote.
	visitor := func() string {
		if p := b.first(transcript.RoleCustomer); p != "" {
			return p
		}
		id := visitorID
		if id == "" {
			id = "visitor"
		}
		return b.participant(id, transcript.RoleCustomer, visitorName, "")
	}
	roomTS, err := rcTime("room.ts", r.TS)
	if err != nil {
		return nil, b.wrap(err)
	}
	started := false
	if roomTS != nil {
		b.add(transcript.Event{At: *roomTS, Type: transcript.EventStarted})
		started = true
	}
	var closeMsgAt *int64
	handedOff, agentSeen := false, false
	for i, m := range in.Messages {
		f := "messages[" + strconv.Itoa(i) + "]"
		at, err := rcTime(f+".ts", m.TS)
		if err != nil {
			return nil, b.wrap(err)
		}
		if at == nil {
			return nil, b.wrap(fmt.Errorf("%s.ts: is required", f))
		}
		switch m.T {
		case "":
			p, err := who(m.U, m.Token, f)
			if err != nil {
				return nil, b.wrap(err)
			}
			files := m.Files
			if len(files) == 0 && m.File != nil {
				files = []rcFileInfo{*m.File}
			}
			if len(bots) == 0 && !handedOff && !agentSeen && b.role(p) == transcript.RoleCustomer {
				// No bot in this room: the visitor's first message is
				// the livechat request that queues it for the agents.
				b.add(transcript.Event{At: *at, Type: transcript.EventHandoff})
				handedOff = true
			}
			if b.role(p) == transcript.RoleAgent {
				agentSeen = true
			}
			if deref(m.Msg) != "" || len(files) == 0 {
				b.add(transcript.Event{At: *at, Type: transcript.EventMessage, Participant: p, Text: deref(m.Msg), Automatic: b.role(p) == transcript.RoleSystem})
			}
			for j, fi := range files {
				file := &transcript.File{Name: deref(fi.Name), ContentType: deref(fi.Type)}
				if fi.Size != nil {
					if *fi.Size < 0 {
						return nil, b.wrap(fmt.Errorf("%s.files[%d].size: must not be negative", f, j))
					}
					file.Size = *fi.Size
				}
				b.add(transcript.Event{At: *at, Type: transcript.EventAttachment, Participant: p, File: file, Automatic: b.role(p) == transcript.RoleSystem})
			}
		case "uj":
			p, err := who(m.U, m.Token, f)
			if err != nil {
				return nil, b.wrap(err)
			}
			if b.role(p) == transcript.RoleAgent {
				agentSeen = true
			}
			b.add(transcript.Event{At: *at, Type: transcript.EventJoined, Participant: p})
		case "ul":
			p, err := who(m.U, m.Token, f)
			if err != nil {
				return nil, b.wrap(err)
			}
			b.add(transcript.Event{At: *at, Type: transcript.EventLeft, Participant: p})
		case "livechat-started":
			if !started {
				b.add(transcript.Event{At: *at, Type: transcript.EventStarted})
				started = true
			}
		case "livechat_transfer_history":
			// A transfer made by a bot is the bot asking for a live
			// agent; one agent forwarding to another shows as the
			// second agent's uj and the first one's ul.
			if m.U != nil && bots[m.U.ID] {
				b.add(transcript.Event{At: *at, Type: transcript.EventHandoff})
				handedOff = true
			}
		case "livechat_navigation_history":
			if m.Navigation == nil || m.Navigation.Page == nil || m.Navigation.Page.Location == nil || m.Navigation.Page.Location.Href == "" {
				return nil, b.wrap(fmt.Errorf("%s.navigation.page.location.href: is required", f))
			}
			b.add(transcript.Event{At: *at, Type: transcript.EventPage, URL: m.Navigation.Page.Location.Href})
		case "livechat-close":
			if closeMsgAt == nil {
				closeMsgAt = at
			}
		default:
			// Other system lines (room changes, transcripts, …) carry
			// nothing of the model.
		}
	}
	closedAt, err := rcTime("room.closedAt", r.ClosedAt)
	if err != nil {
		return nil, b.wrap(err)
	}
	if closedAt == nil {
		closedAt = closeMsgAt
	}
	if closedAt != nil {
		e := transcript.Event{At: *closedAt, Type: transcript.EventEnded}
		switch r.Closer {
		case "visitor":
			e.Participant = visitor()
			e.Reason = "quit"
		case "user", "bot":
			if r.ClosedBy != nil && r.ClosedBy.ID != "" {
				role := transcript.RoleAgent
				if r.Closer == "bot" {
					role = transcript.RoleBot
				}
				e.Participant = b.participant(r.ClosedBy.ID, role, r.ClosedBy.Username, "")
				e.Reason = "force"
			}
		case "":
		default:
			return nil, b.wrap(fmt.Errorf("room.closer: %q is not user, visitor or bot", clipText(r.Closer)))
		}
		b.add(e)
	}
	if sf := r.SurveyFeedback; sf != nil && sf.Satisfaction != nil {
		score, err := strconv.Atoi(*sf.Satisfaction)
		if err != nil || score < 1 || score > 5 {
			return nil, b.wrap(fmt.Errorf("room.surveyFeedback.satisfaction: %q is not 1 to 5", clipText(*sf.Satisfaction)))
		}
		at := closedAt
		for i := range b.t.Events {
			// No close: the last thing known.
			if closedAt == nil && (at == nil || b.t.Events[i].At > *at) {
				at = &b.t.Events[i].At
			}
		}
		if at != nil {
			b.add(transcript.Event{At: *at, Type: transcript.EventRating, Participant: visitor(), Score: score, Comment: deref(sf.AdditionalFeedback)})
		}
	}
	t, err := b.finish()
	if err != nil {
		return nil, err
	}
	d := &Decoded{Transcript: t}
	if r.Metrics != nil {
		metrics := map[string]jsontext.Value{}
		if len(r.Metrics.Response) > 0 && r.Metrics.Response.Kind() == '{' {
			metrics["response"] = r.Metrics.Response
		}
		if len(r.Metrics.Reaction) > 0 && r.Metrics.Reaction.Kind() == '{' {
			metrics["reaction"] = r.Metrics.Reaction
		}
		if len(metrics) > 0 {
			raw, err := rawObject(metrics)
			if err != nil {
				return nil, b.wrap(fmt.Errorf("room.metrics: %w", err))
			}
			if d.Figures, err = figures("rocketchat", map[string]jsontext.Value{"metrics": raw}); err != nil {
				return nil, err
			}
		}
		if len(r.Metrics.Response) > 0 && r.Metrics.Response.Kind() == '{' {
			var resp struct {
				FT *float64 `json:"ft"`
			}
			if err := strictjson.Unmarshal(r.Metrics.Response, &resp); err != nil {
				return nil, fmt.Errorf("rocketchat: room.metrics.response: %w", err)
			}
			if resp.FT != nil {
				d.FirstReplyMs = secondsToMs(*resp.FT)
			}
		}
	}
	return d, nil
}

// rcTime reads a Rocket.Chat date: an ISO 8601 string as the REST API
// writes it, or {"$date": <Unix ms>} as EJSON does. Absent or null: nil.
func rcTime(field string, v jsontext.Value) (*int64, error) {
	if len(v) == 0 || v.Kind() == 'n' {
		return nil, nil
	}
	switch v.Kind() {
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
	case '{':
		var d struct {
			Date *int64 `json:"$date"`
		}
		if err := strictjson.Unmarshal(v, &d); err != nil || d.Date == nil {
			return nil, fmt.Errorf("%s: an object date needs an integer $date (Unix milliseconds)", field)
		}
		if *d.Date < -62135596800000 || *d.Date > 253402300799999 {
			return nil, fmt.Errorf("%s.$date: %d is out of range", field, *d.Date)
		}
		return d.Date, nil
	}
	return nil, fmt.Errorf("%s: must be an ISO 8601 string or {\"$date\": ms}", field)
}

func detectRocketChat(data []byte) bool {
	var probe struct {
		Room *struct {
			ID *string `json:"_id"`
			T  *string `json:"t"`
		} `json:"room"`
		Messages jsontext.Value `json:"messages"`
	}
	if strictjson.Unmarshal(data, &probe) != nil || probe.Room == nil || probe.Room.ID == nil {
		return false
	}
	return (probe.Room.T == nil || *probe.Room.T == "l") && probe.Messages.Kind() == '['
}
