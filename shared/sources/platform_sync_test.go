package sources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/testenv"
)

// A real sync against each platform's fake: SOURCES binds folder A to
// account A and folder B to account B of the same platform; the cards are
// created through the API handler; the sync handler built by shared/app
// fetches them. A's ended chat closes with the platform's figures, A's
// running chat is updated, B's card of the same session id stays untouched
// (B's account has no such chat), and a second run writes nothing.

// syncWorld is one platform fake with A's two chats in it.
type syncWorld struct {
	kind             string
	closedID, openID string
	figures          string
	sources          string // SOURCES
	marker           string // a text of A's chat that must never reach B
	base             *fakeBase
	prefix           string // path prefix of a fetch's calls, for faults
}

func zendeskSyncWorld(t *testing.T) syncWorld {
	f := newZDFake(t)
	f.put(apiTokenA, zdChat(t, zdFixtureID), 1795165500)
	open := zdChat(t, "2611.10042.Running1")
	delete(open, "end_timestamp")
	f.put(apiTokenA, open, 1795165500)
	return syncWorld{base: &f.fakeBase, prefix: "/api/v2/chat/chats/", kind: "zendesk", closedID: zdFixtureID, openID: "2611.10042.Running1", marker: "Quick help",
		figures: `{"platform":"zendesk","response_time":{"first":56,"avg":38,"max":56}}`,
		sources: fmt.Sprintf(`{"A": {"kind": "zendesk", "url": %q, "token": %q, "rps": 1000}, "B": {"kind": "zendesk", "url": %q, "token": %q, "rps": 1000}}`,
			f.srv.URL, apiTokenA, f.srv.URL, apiTokenB)}
}

func chatwootSyncWorld(t *testing.T) syncWorld {
	f := newCWFake(t)
	f.msgPage = 5 // several pages per conversation
	f.put(apiTokenA, cwConversation(t, cwFixtureID))
	open := cwConversation(t, 4712)
	open.conv["status"] = "open"
	f.put(apiTokenA, open)
	return syncWorld{base: &f.fakeBase, prefix: "/api/v1/accounts/", kind: "chatwoot", closedID: "4711", openID: "4712", marker: "Quick help",
		figures: `{"created_at":1795165200,"first_reply_created_at":1795165265,"platform":"chatwoot"}`,
		sources: fmt.Sprintf(`{"A": {"kind": "chatwoot", "url": %q, "token": %q, "accountId": 3, "rps": 1000}, "B": {"kind": "chatwoot", "url": %q, "token": %q, "accountId": 4, "rps": 1000}}`,
			f.srv.URL, apiTokenA, f.srv.URL, apiTokenB)}
}

func rocketchatSyncWorld(t *testing.T) syncWorld {
	f := newRCFake(t)
	f.put(rcUserA, rcRoomFixture(t, rcFixtureID))
	open := rcRoomFixture(t, "RunningRoom000001")
	for _, k := range []string{"closedAt", "closer", "closedBy"} {
		delete(open.room, k)
	}
	var kept []map[string]any
	for _, m := range open.msgs {
		if m["t"] != "livechat-close" {
			kept = append(kept, m)
		}
	}
	open.msgs = kept
	f.put(rcUserA, open)
	return syncWorld{base: &f.fakeBase, prefix: "/api/v1/", kind: "rocketchat", closedID: rcFixtureID, openID: "RunningRoom000001", marker: "Quick help",
		figures: `{"metrics":{"reaction":{"fd":"2026-11-20T09:01:05.250Z","ft":25.25,"tt":45.25},"response":{"avg":55.625,"fd":"2026-11-20T09:01:05.250Z","ft":56.25,"total":2,"tt":111.25}},"platform":"rocketchat"}`,
		sources: fmt.Sprintf(`{"A": {"kind": "rocketchat", "url": %q, "token": %q, "userId": %q, "rps": 1000}, "B": {"kind": "rocketchat", "url": %q, "token": %q, "userId": %q, "rps": 1000}}`,
			f.srv.URL, apiTokenA, rcUserA, f.srv.URL, apiTokenB, rcUserB)}
}

const (
	apiCardTokenA = "card-api-token-of-A"
	apiCardTokenB = "card-api-token-of-B"
)

var syncNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func apiHandler(t *testing.T, store cardstore.Store) http.Handler {
	t.Helper()
	tokens, err := api.ParseTokens(fmt.Appendf(nil, `{%q: ["A"], %q: ["B"]}`, api.HashToken(apiCardTokenA), api.HashToken(apiCardTokenB)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := app.API(context.Background(), func(string) string { return "" }, app.Deps{Store: store, Tokens: tokens, Logger: quietLog(), Now: func() time.Time { return syncNow }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func apiDo(t *testing.T, h http.Handler, method, token, path string, body []byte) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func runPlatformSync(t *testing.T, store cardstore.Store, sourcesEnv string) syncer.Summary {
	t.Helper()
	env := map[string]string{"SOURCES": sourcesEnv}
	h, err := app.Sync(context.Background(), func(k string) string { return env[k] }, app.Deps{Store: store, Logger: quietLog(), Now: func() time.Time { return syncNow }})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.HandleRaw(context.Background(), json.RawMessage(`{"folders": []}`))
	if err != nil || resp.Summary == nil {
		t.Fatalf("sync: %+v %v", resp, err)
	}
	s := *resp.Summary
	s.Duration = 0
	return s
}

func platformSyncSuite(t *testing.T, newStore func(t *testing.T) cardstore.Store) {
	for _, mk := range []func(*testing.T) syncWorld{zendeskSyncWorld, chatwootSyncWorld, rocketchatSyncWorld} {
		w := mk(t)
		t.Run(w.kind, func(t *testing.T) {
			store := newStore(t)
			h := apiHandler(t, store)
			create := func(token, folder, id string) {
				body := fmt.Appendf(nil, `{"sessionId": %q, "startedAt": "2026-11-20T09:00:00Z"}`, id)
				if code, resp := apiDo(t, h, "POST", token, "/v1/chat-sessions?folder="+folder, body); code != http.StatusCreated {
					t.Fatalf("create %s/%s: %d %s", folder, id, code, resp)
				}
			}
			create(apiCardTokenA, "A", w.closedID)
			create(apiCardTokenA, "A", w.openID)
			create(apiCardTokenB, "B", w.closedID) // B's card of the same id

			// The platform stumbles: the source's retries absorb it. The
			// kind has a sweep, so the run asks it first (its updated-since
			// listing answers both of A's cards: Swept 2).
			w.base.fail(w.prefix, 2, http.StatusServiceUnavailable, "")
			w.base.fail(w.prefix, 1, http.StatusTooManyRequests, "0")
			sum := runPlatformSync(t, store, w.sources)
			if want := (syncer.Summary{Seen: 3, Closed: 1, Updated: 1, NotYet: 1, Swept: 2}); sum != want {
				t.Fatalf("first run %+v, want %+v", sum, want)
			}
			w.base.mu.Lock()
			left := len(w.base.faults)
			w.base.mu.Unlock()
			if left != 0 {
				t.Fatalf("%d injected faults were never met", left)
			}
			ctx := context.Background()
			a, err := store.Get(ctx, "A", w.closedID)
			if err != nil {
				t.Fatal(err)
			}
			if a.Active || a.MessageCount == 0 {
				t.Fatalf("A's ended chat: active %v, %d messages", a.Active, a.MessageCount)
			}
			jsonEqual(t, a.PlatformFigures, w.figures)
			running, err := store.Get(ctx, "A", w.openID)
			if err != nil {
				t.Fatal(err)
			}
			if !running.Active || running.SourceHash == "" || running.PlatformFigures == nil {
				t.Fatalf("A's running chat: active %v, hash %q, figures %s", running.Active, running.SourceHash, running.PlatformFigures)
			}
			// Isolation: B's card got nothing of A's chat, through the store
			// and through the API.
			b, err := store.Get(ctx, "B", w.closedID)
			if err != nil {
				t.Fatal(err)
			}
			if !b.Active || b.MessageCount != 0 || b.SourceHash != "" || b.PlatformFigures != nil {
				t.Fatalf("B's card was written: active %v, %d messages, hash %q, figures %s", b.Active, b.MessageCount, b.SourceHash, b.PlatformFigures)
			}
			code, body := apiDo(t, h, "GET", apiCardTokenB, "/v1/chat-sessions/"+w.closedID+"?folder=B", nil)
			if code != http.StatusOK || strings.Contains(body, w.marker) || strings.Contains(body, "platformFigures") {
				t.Fatalf("B's card through the API: %d %s", code, body)
			}
			code, body = apiDo(t, h, "GET", apiCardTokenA, "/v1/chat-sessions/"+w.closedID+"?folder=A", nil)
			if code != http.StatusOK || !strings.Contains(body, "platformFigures") {
				t.Fatalf("A's card through the API: %d %s", code, body)
			}

			// The second run writes nothing: the running chat did not change.
			sum = runPlatformSync(t, store, w.sources)
			if want := (syncer.Summary{Seen: 2, Unchanged: 1, NotYet: 1, Swept: 1}); sum != want {
				t.Fatalf("second run %+v, want %+v", sum, want)
			}
			again, err := store.Get(ctx, "A", w.openID)
			if err != nil {
				t.Fatal(err)
			}
			if again.Version != running.Version || again.UpdatedAt != running.UpdatedAt {
				t.Fatalf("the second run wrote A's running card (version %d → %d)", running.Version, again.Version)
			}
			if b2, _ := store.Get(ctx, "B", w.closedID); b2.Version != b.Version {
				t.Fatalf("the second run wrote B's card (version %d → %d)", b.Version, b2.Version)
			}
		})
	}
}

func TestPlatformSyncEmbedded(t *testing.T) {
	platformSyncSuite(t, func(*testing.T) cardstore.Store { return memstore.New() })
}

func TestPlatformSyncMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	platformSyncSuite(t, func(t *testing.T) cardstore.Store { return testenv.DynamoStore(t, endpoint) })
}
