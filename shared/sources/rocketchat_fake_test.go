package sources_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rcFake is the Rocket.Chat REST API as the rocketchat source uses it:
// rooms.info (an unknown room is 400, as Rocket.Chat answers), the
// visitor-side livechat/messages.history/{rid} (newest first, limit and
// offset, the visitor token required), and livechat/rooms with createdAt,
// closedAt and open filters. Each user (X-User-Id + X-Auth-Token) is one
// workspace's; rooms of other workspaces are unknown to them.
type rcFake struct {
	fakeBase
	srv    *httptest.Server
	dataMu sync.Mutex
	users  map[string]string             // X-User-Id → X-Auth-Token
	rooms  map[string]map[string]*rcRoom // X-User-Id → rid → room
}

type rcRoom struct {
	room map[string]any
	msgs []map[string]any // oldest first
}

const (
	rcUserA = "userAaaaaaaaaaaaa"
	rcUserB = "userBbbbbbbbbbbbb"
)

func newRCFake(t *testing.T) *rcFake {
	f := &rcFake{users: map[string]string{rcUserA: apiTokenA, rcUserB: apiTokenB},
		rooms: map[string]map[string]*rcRoom{rcUserA: {}, rcUserB: {}}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// rcRoomFixture is the formats fixture room under rid.
func rcRoomFixture(t testing.TB, rid string) *rcRoom {
	f := loadFixture(t, "rocketchat/room_full.json")
	room := f["room"].(map[string]any)
	room["_id"] = rid
	var msgs []map[string]any
	for _, m := range f["messages"].([]any) {
		mm := m.(map[string]any)
		mm["rid"] = rid
		msgs = append(msgs, mm)
	}
	return &rcRoom{room: room, msgs: msgs}
}

func (f *rcFake) put(user string, r *rcRoom) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	f.rooms[user][r.room["_id"].(string)] = r
}

func rcFail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": msg})
}

func (f *rcFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.intercept(w, r) {
		return
	}
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	p, q := r.URL.Path, r.URL.Query()
	if rid, ok := strings.CutPrefix(p, "/api/v1/livechat/messages.history/"); ok {
		// The visitor side: no user, the visitor's token.
		var room *rcRoom
		for _, rooms := range f.rooms {
			if rm, ok := rooms[rid]; ok {
				room = rm
			}
		}
		if room == nil || q.Get("token") == "" || room.room["v"].(map[string]any)["token"] != q.Get("token") {
			rcFail(w, http.StatusBadRequest, "invalid-room")
			return
		}
		limit, err1 := strconv.Atoi(q.Get("limit"))
		offset, err2 := strconv.Atoi(q.Get("offset"))
		if err1 != nil || err2 != nil || limit < 1 || offset < 0 {
			rcFail(w, http.StatusBadRequest, "bad paging")
			return
		}
		newest := slices.Clone(room.msgs)
		slices.Reverse(newest)
		newest = newest[min(offset, len(newest)):]
		page := []any{}
		for _, m := range newest[:min(limit, len(newest))] {
			page = append(page, m)
		}
		writeJSON(w, map[string]any{"messages": page, "success": true})
		return
	}
	user := r.Header.Get("X-User-Id")
	if tok, ok := f.users[user]; !ok || r.Header.Get("X-Auth-Token") != tok {
		rcFail(w, http.StatusUnauthorized, "You must be logged in to do this.")
		return
	}
	rooms := f.rooms[user]
	switch p {
	case "/api/v1/rooms.info":
		rm, ok := rooms[q.Get("roomId")]
		if !ok {
			rcFail(w, http.StatusBadRequest, "not-allowed")
			return
		}
		writeJSON(w, map[string]any{"room": rm.room, "success": true})
	case "/api/v1/livechat/rooms":
		offset, err1 := strconv.Atoi(q.Get("offset"))
		count, err2 := strconv.Atoi(q.Get("count"))
		if err1 != nil || err2 != nil || count < 1 || q.Get("sort") != `{"ts":1}` {
			rcFail(w, http.StatusBadRequest, "bad paging")
			return
		}
		var since time.Time
		field := ""
		for _, k := range []string{"createdAt", "closedAt"} {
			if v := q.Get(k); v != "" {
				var rng struct{ Start string }
				if json.Unmarshal([]byte(v), &rng) != nil {
					rcFail(w, http.StatusBadRequest, "bad range")
					return
				}
				since, _ = time.Parse(time.RFC3339Nano, rng.Start)
				field = k
			}
		}
		var list []*rcRoom
		for _, rm := range rooms {
			ts := func(k string) (time.Time, bool) {
				s, ok := rm.room[k].(string)
				t, err := time.Parse(time.RFC3339Nano, s)
				return t, ok && err == nil
			}
			_, closed := ts("closedAt")
			switch field {
			case "createdAt":
				if t, ok := ts("ts"); !ok || t.Before(since) {
					continue
				}
			case "closedAt":
				if t, ok := ts("closedAt"); !ok || t.Before(since) {
					continue
				}
			}
			if q.Get("open") == "true" && closed {
				continue
			}
			list = append(list, rm)
		}
		slices.SortFunc(list, func(a, b *rcRoom) int {
			if c := strings.Compare(a.room["ts"].(string), b.room["ts"].(string)); c != 0 {
				return c
			}
			return strings.Compare(a.room["_id"].(string), b.room["_id"].(string))
		})
		page := []any{}
		for _, rm := range list[min(offset, len(list)):min(offset+count, len(list))] {
			page = append(page, rm.room)
		}
		writeJSON(w, map[string]any{"rooms": page, "count": len(page), "offset": offset, "total": len(list), "success": true})
	default:
		rcFail(w, http.StatusNotFound, "not found")
	}
}
