package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// KindRocketChat is the Rocket.Chat Omnichannel REST API source
// (docs/sources/rocketchat.md).
const KindRocketChat = "rocketchat"

func init() {
	Register(KindRocketChat, func() Settings { return &RocketChatSettings{} })
}

// RocketChatSettings are the "rocketchat" kind's keys: url is the
// workspace, userId and token (or tokenSecret) a personal access token of a
// user who may view livechat rooms (view-livechat-rooms, view-l-room).
type RocketChatSettings struct {
	APISettings
	UserID string `json:"userId"`
}

// Check validates the keys.
func (s *RocketChatSettings) Check() error {
	if err := s.check(); err != nil {
		return err
	}
	if s.UserID == "" {
		return errors.New("userId: is required (the X-User-Id of the personal access token)")
	}
	return nil
}

// Open reads the token and builds the source.
func (s *RocketChatSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	tok, opt, err := s.open(ctx, env, KindRocketChat, RocketChatDefaultRPS)
	if err != nil {
		return nil, err
	}
	return NewRocketChat(RocketChatOptions{BaseURL: s.URL, Token: tok, UserID: s.UserID, Client: opt})
}

// RocketChatDefaultRPS stays under Rocket.Chat's default REST rate limiter
// (API_Enable_Rate_Limiter_Limit_Calls_Default: 10 calls per endpoint per
// minute). Give the user the api-bypass-rate-limit permission, or raise the
// limiter, and set rps to sync faster.
const RocketChatDefaultRPS = 0.15

// rocketChatPage is the count a history or listing page asks for
// (API_Upper_Count_Limit's default is 100).
const rocketChatPage = 100

// RocketChatOptions configure the rocketchat source.
type RocketChatOptions struct {
	BaseURL string // e.g. https://chat.example.com (a path prefix is kept)
	Token   string // X-Auth-Token
	UserID  string // X-User-Id
	Client  ClientOptions
}

// RocketChat reads livechat rooms and their message history.
type RocketChat struct {
	api *apiSource
}

var (
	_ Source     = (*RocketChat)(nil)
	_ Sweeper    = (*RocketChat)(nil)
	_ Discoverer = (*RocketChat)(nil)
)

// NewRocketChat checks the options and returns the source.
func NewRocketChat(opt RocketChatOptions) (*RocketChat, error) {
	if opt.Token == "" || opt.UserID == "" {
		return nil, errors.New("sources: rocketchat: Token and UserID are required")
	}
	a, err := newAPISource(KindRocketChat, opt.BaseURL, http.Header{"X-Auth-Token": {opt.Token}, "X-User-Id": {opt.UserID}}, opt.Client)
	if err != nil {
		return nil, err
	}
	return &RocketChat{api: a}, nil
}

// Fetch reads the room (GET /api/v1/rooms.info) and its whole history and
// decodes {"room": …, "messages": […oldest first]} as the rocketchat format.
// Rocket.Chat answers a room it does not know (or the user may not see) with
// 400, not 404: both mean "not yet" here.
func (s *RocketChat) Fetch(ctx context.Context, r Request) (Result, error) {
	if err := pathID(KindRocketChat, r.SessionID); err != nil {
		return Result{}, err
	}
	body, err := s.api.get(ctx, r.Folder, "room "+r.SessionID, s.api.endpoint("/api/v1/rooms.info", url.Values{"roomId": {r.SessionID}}))
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusBadRequest {
		return Result{}, fmt.Errorf("rocketchat %s: room unknown (400): %w", r.SessionID, ErrNotYet)
	}
	if err != nil {
		return Result{}, tooLargeIsBad(r.SessionID, err)
	}
	var info struct {
		Room jsontext.Value `json:"room"`
	}
	if err := strictjson.Unmarshal(body, &info); err != nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("rocketchat: rooms.info: %w", err))
	}
	if info.Room.Kind() != '{' {
		return Result{}, badTranscript(r.SessionID, errors.New("rocketchat: rooms.info: room: is required (an object)"))
	}
	return s.assemble(ctx, r.Folder, r.SessionID, info.Room)
}

func (s *RocketChat) assemble(ctx context.Context, folder, rid string, room jsontext.Value) (Result, error) {
	var head struct {
		V *struct {
			Token string `json:"token"`
		} `json:"v"`
	}
	if err := strictjson.Unmarshal(room, &head); err != nil {
		return Result{}, badTranscript(rid, fmt.Errorf("rocketchat: room: %w", err))
	}
	if head.V == nil || head.V.Token == "" {
		return Result{}, badTranscript(rid, errors.New("rocketchat: room.v.token: is required to read the room's history"))
	}
	msgs, err := s.history(ctx, folder, rid, head.V.Token)
	if err != nil {
		return Result{}, err
	}
	doc, err := json.Marshal(map[string]any{"room": room, "messages": msgs}, json.Deterministic(true))
	if err != nil {
		return Result{}, badTranscript(rid, err)
	}
	return decodeAs(KindRocketChat, rid, doc)
}

// RocketChatHistoryPage is one page of GET /api/v1/livechat/messages.history/{rid}.
type RocketChatHistoryPage struct {
	Messages []jsontext.Value `json:"messages"`
}

// ParseRocketChatHistoryPage reads a history page strictly and returns the
// messages with their _id.
func ParseRocketChatHistoryPage(b []byte) ([]jsontext.Value, []string, error) {
	var p RocketChatHistoryPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, nil, err
	}
	if p.Messages == nil {
		return nil, nil, errors.New("messages: is required")
	}
	ids := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		var head struct {
			ID string `json:"_id"`
		}
		if m.Kind() != '{' {
			return nil, nil, fmt.Errorf("messages[%d]: must be an object", i)
		}
		if err := strictjson.Unmarshal(m, &head); err != nil {
			return nil, nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		if head.ID == "" {
			return nil, nil, fmt.Errorf("messages[%d]._id: is required", i)
		}
		ids[i] = head.ID
	}
	return p.Messages, ids, nil
}

// history reads the room's messages, system lines included (joins, leaves,
// transfers, pages, the close), with the visitor-side history call: the
// agent-side livechat/{rid}/messages leaves system lines out. Pages come
// newest first by offset; a message that shifts into the next page while
// paging is read twice and kept once. The last page is shorter than the
// count asked for.
func (s *RocketChat) history(ctx context.Context, folder, rid, visitorToken string) ([]jsontext.Value, error) {
	var all []jsontext.Value
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > maxMessagePages {
			return nil, badTranscript(rid, fmt.Errorf("rocketchat: more than %d pages of messages", maxMessagePages))
		}
		what := fmt.Sprintf("room %s history page %d", rid, page)
		u := s.api.endpoint("/api/v1/livechat/messages.history/"+url.PathEscape(rid), url.Values{
			"token": {visitorToken}, "limit": {strconv.Itoa(rocketChatPage)}, "offset": {strconv.Itoa((page - 1) * rocketChatPage)}})
		body, err := s.api.get(ctx, folder, what, u)
		if err != nil {
			return nil, tooLargeIsBad(rid, err)
		}
		msgs, ids, err := ParseRocketChatHistoryPage(body)
		if err != nil {
			return nil, badTranscript(rid, fmt.Errorf("rocketchat: %s: %w", what, err))
		}
		fresh := 0
		for i, m := range msgs {
			if !seen[ids[i]] {
				seen[ids[i]] = true
				all = append(all, m)
				fresh++
			}
		}
		if len(msgs) < rocketChatPage {
			break
		}
		if fresh == 0 {
			return nil, badTranscript(rid, fmt.Errorf("rocketchat: %s: nothing new (the offset parameter is ignored?)", what))
		}
	}
	slices.Reverse(all) // oldest first, as the format reads them
	return all, nil
}

// RocketChatRoomsPage is one page of GET /api/v1/livechat/rooms.
type RocketChatRoomsPage struct {
	Rooms []jsontext.Value `json:"rooms"`
	Total *int             `json:"total"`
}

// RocketChatListed is what discovery reads of a listed room.
type RocketChatListed struct {
	ID string
	TS time.Time // zero when the room has none
}

// ParseRocketChatRoomsPage reads a rooms page strictly.
func ParseRocketChatRoomsPage(b []byte) ([]RocketChatListed, int, error) {
	var p RocketChatRoomsPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, 0, err
	}
	if p.Rooms == nil {
		return nil, 0, errors.New("rooms: is required")
	}
	if p.Total == nil || *p.Total < 0 {
		return nil, 0, errors.New("total: is required (a count)")
	}
	out := make([]RocketChatListed, len(p.Rooms))
	for i, raw := range p.Rooms {
		var head struct {
			ID string         `json:"_id"`
			TS jsontext.Value `json:"ts"`
		}
		if raw.Kind() != '{' {
			return nil, 0, fmt.Errorf("rooms[%d]: must be an object", i)
		}
		if err := strictjson.Unmarshal(raw, &head); err != nil {
			return nil, 0, fmt.Errorf("rooms[%d]: %w", i, err)
		}
		if head.ID == "" {
			return nil, 0, fmt.Errorf("rooms[%d]._id: is required", i)
		}
		out[i].ID = head.ID
		out[i].TS, _ = rocketChatTime(head.TS) // only a hint for discovery
	}
	return out, *p.Total, nil
}

// rocketChatTime reads an ISO string or {"$date": ms}.
func rocketChatTime(v jsontext.Value) (time.Time, bool) {
	switch v.Kind() {
	case '"':
		var s string
		if strictjson.Unmarshal(v, &s) != nil {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err == nil
	case '{':
		var d struct {
			Date *int64 `json:"$date"`
		}
		if strictjson.Unmarshal(v, &d) != nil || d.Date == nil {
			return time.Time{}, false
		}
		return time.UnixMilli(*d.Date).UTC(), true
	}
	return time.Time{}, false
}

// rooms walks GET /api/v1/livechat/rooms with the filter, oldest first, by
// offset until total is reached or a page is empty.
func (s *RocketChat) rooms(ctx context.Context, folder string, filter url.Values, fn func(RocketChatListed) error) error {
	offset := 0
	for page := 1; ; page++ {
		if page > maxListPages {
			return fmt.Errorf("sources: rocketchat: livechat rooms: more than %d pages", maxListPages)
		}
		what := fmt.Sprintf("livechat rooms page %d", page)
		q := url.Values{"offset": {strconv.Itoa(offset)}, "count": {strconv.Itoa(rocketChatPage)}, "sort": {`{"ts":1}`}}
		for k, v := range filter {
			q[k] = v
		}
		body, err := s.api.get(ctx, folder, what, s.api.endpoint("/api/v1/livechat/rooms", q))
		if err != nil {
			return err
		}
		rooms, total, err := ParseRocketChatRoomsPage(body)
		if err != nil {
			return fmt.Errorf("sources: rocketchat: %s: %w", what, err)
		}
		for _, r := range rooms {
			if err := fn(r); err != nil {
				return err
			}
		}
		offset += len(rooms)
		if len(rooms) == 0 || offset >= total {
			return nil
		}
	}
}

func isoRange(since time.Time) string {
	b, _ := json.Marshal(map[string]string{"start": since.UTC().Format("2006-01-02T15:04:05.000Z")})
	return string(b)
}

// Discover lists the livechat rooms created since the time (the rooms
// listing filters by creation or close, not by last change).
func (s *RocketChat) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	return s.rooms(ctx, folder, url.Values{"createdAt": {isoRange(since)}}, func(r RocketChatListed) error {
		if pathID(KindRocketChat, r.ID) != nil {
			return nil
		}
		return fn(Discovered{SessionID: r.ID, StartedAt: r.TS})
	})
}

// SweepFolder reads the rooms closed since the time and every open room
// (an open room may have changed at any time), each once, with its whole
// history. A room that does not decode does not stop the sweep; its
// BadTranscriptError is part of the returned error at the end.
func (s *RocketChat) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	var ids []string
	seen := map[string]bool{}
	collect := func(r RocketChatListed) error {
		if !seen[r.ID] {
			seen[r.ID] = true
			ids = append(ids, r.ID)
		}
		return nil
	}
	if err := s.rooms(ctx, folder, url.Values{"closedAt": {isoRange(since)}}, collect); err != nil {
		return err
	}
	if err := s.rooms(ctx, folder, url.Values{"open": {"true"}}, collect); err != nil {
		return err
	}
	var bad []error
	for _, id := range ids {
		if err := pathID(KindRocketChat, id); err != nil {
			bad = append(bad, badTranscript(id, err))
			continue
		}
		res, err := s.Fetch(ctx, Request{Folder: folder, SessionID: id})
		switch {
		case err == nil:
			if err := fn(res); err != nil {
				return err
			}
		case IsBadTranscript(err):
			bad = append(bad, err)
		case errors.Is(err, ErrNotYet):
			// removed since it was listed
		default:
			return err
		}
	}
	return errors.Join(bad...)
}
