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

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/testenv"
	"github.com/chatcards/chatcards/shared/transcript"
)

// The vendor sources through a real sync: folders A and B each read their
// own account of the platform (their own fake, their own SOURCES entry);
// both hold a card of the same session id, created through the real API
// handler. A's platform has the chat; B's answers that id with another
// tenant's conversation. The sync fills A's card with the figures of the
// chat and the platform's own figures, refuses B's, and a second sync
// writes nothing.

const (
	vAPITokenA = "api-token-of-A"
	vAPITokenB = "api-token-of-B"
)

type vSyncCase struct {
	kind string
	// entry is the SOURCES entry of a folder reading the fake at u.
	entry func(u string) string
	// harness builds a fake; B's is misrouted for good.
	harness func(t *testing.T) vHarness
}

func vSyncCases() []vSyncCase {
	return []vSyncCase{
		{kind: "livechat", harness: func(t *testing.T) vHarness { h, _ := newLiveChatHarness(t); return h },
			entry: func(u string) string {
				return fmt.Sprintf(`{"kind": "livechat", "url": %q, "accountId": %q, "token": %q, "rps": 1000}`, u, lcAccount, token)
			}},
		{kind: "intercom", harness: func(t *testing.T) vHarness { h, _ := newIntercomHarness(t); return h },
			entry: func(u string) string {
				return fmt.Sprintf(`{"kind": "intercom", "url": %q, "token": %q, "rps": 1000}`, u, token)
			}},
		{kind: "genesys", harness: func(t *testing.T) vHarness { h, _ := newGenesysHarness(t); return h },
			entry: func(u string) string {
				return fmt.Sprintf(`{"kind": "genesys", "apiUrl": %q, "loginUrl": %q, "clientId": %q, "clientSecret": %q, "rps": 1000}`, u, u, gcClient, gcSecret)
			}},
		{kind: "botframework", harness: func(t *testing.T) vHarness { h, _ := newBotFrameworkHarness(t, sources.LayoutDotNet); return h },
			entry: func(u string) string {
				return fmt.Sprintf(`{"kind": "botframework", "url": %q, "token": %q, "channelId": "emulator", "rps": 1000}`, u+"/transcripts", bfSAS)
			}},
	}
}

func vQuietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// vSync runs the suite on the store newStore gives.
func vSync(t *testing.T, newStore func(t *testing.T) cardstore.Store) {
	for _, c := range vSyncCases() {
		t.Run(c.kind, func(t *testing.T) {
			ctx := context.Background()
			ha, hb := c.harness(t), c.harness(t)
			hb.misroute()
			dec, err := ha.decode(ha.want)
			if err != nil {
				t.Fatal(err)
			}
			started := time.UnixMilli(dec.Transcript.Events[0].At).UTC()
			now := func() time.Time { return started.Add(time.Hour) }
			store := newStore(t)
			tokens, err := api.ParseTokens(fmt.Appendf(nil, `{%q: ["A"], %q: ["B"]}`, api.HashToken(vAPITokenA), api.HashToken(vAPITokenB)))
			if err != nil {
				t.Fatal(err)
			}
			apiH, err := app.API(ctx, func(string) string { return "" }, app.Deps{Store: store, Tokens: tokens, Logger: vQuietLog(), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct{ folder, token string }{{"A", vAPITokenA}, {"B", vAPITokenB}} {
				body := fmt.Appendf(nil, `{"sessionId": %q, "startedAt": %q}`, ha.id, started.Format(time.RFC3339))
				r := httptest.NewRequest("POST", "/v1/chat-sessions?folder="+f.folder, bytes.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+f.token)
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				apiH.ServeHTTP(w, r)
				if w.Code != http.StatusCreated {
					t.Fatalf("create in %s: %d %s", f.folder, w.Code, w.Body)
				}
			}
			env := map[string]string{"SOURCES": fmt.Sprintf(`{"A": %s, "B": %s}`, c.entry(ha.fake.URL()), c.entry(hb.fake.URL()))}
			h, err := app.Sync(ctx, func(k string) string { return env[k] }, app.Deps{Store: store, Logger: vQuietLog(), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			run := func() syncer.Summary {
				resp, err := h.HandleRaw(ctx, json.RawMessage(`{"folders": []}`))
				if err != nil || resp.Summary == nil {
					t.Fatalf("sync: %+v %v", resp, err)
				}
				s := *resp.Summary
				s.Duration = 0
				return s
			}
			ended := false
			for _, e := range dec.Transcript.Events {
				ended = ended || e.Type == transcript.EventEnded
			}
			sum := run()
			want := syncer.Summary{Seen: 2, Failed: 1, BadTranscript: 1, Swept: 1} // A's card answered by the kind's sweep
			if ended {
				want.Closed = 1
			} else {
				want.Updated = 1
			}
			if sum != want {
				t.Fatalf("first sync %+v, want %+v", sum, want)
			}
			a, err := store.Get(ctx, "A", ha.id)
			if err != nil {
				t.Fatal(err)
			}
			settings, err := config.StatsFromEnv(func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			wantCard := stats.Compute(dec.Transcript, settings, nil)
			if len(a.Statistics) == 0 || a.SourceHash == "" {
				t.Fatalf("A's card has no figures: %+v", a)
			}
			t.Logf("A: %d figures, messages %v, platformFigures %d bytes", len(a.Statistics), a.Statistics["csg_MessagesFromCustomersCount"], len(a.PlatformFigures))
			if diff := cmp.Diff(wantCard.Statistics, a.Statistics); diff != "" {
				t.Fatalf("A's statistics (-want +got):\n%s", diff)
			}
			if a.StartTime != wantCard.StartTime || a.EndTime != wantCard.EndTime || a.Active == ended {
				t.Fatalf("A's card: start %s end %s active %v, want %s %s", a.StartTime, a.EndTime, a.Active, wantCard.StartTime, wantCard.EndTime)
			}
			if !vJsonEqual(a.PlatformFigures, dec.Figures) {
				t.Fatalf("A's platformFigures %s, want %s", a.PlatformFigures, dec.Figures)
			}
			if c.kind == "livechat" || c.kind == "intercom" {
				if len(a.PlatformFigures) == 0 || !strings.Contains(string(a.PlatformFigures), `"platform":"`+c.kind+`"`) {
					t.Fatalf("A's platformFigures %s do not name %s", a.PlatformFigures, c.kind)
				}
			}
			b, err := store.Get(ctx, "B", ha.id)
			if err != nil {
				t.Fatal(err)
			}
			if !b.Active || len(b.Statistics) != 0 || b.SourceHash != "" || len(b.PlatformFigures) != 0 {
				t.Fatalf("B's card was written from another tenant's conversation: %+v", b)
			}
			// The second sync writes nothing.
			sum = run()
			if sum.Updated != 0 || sum.Closed != 0 || sum.BadTranscript != 1 {
				t.Fatalf("second sync %+v, want nothing written", sum)
			}
			a2, err := store.Get(ctx, "A", ha.id)
			if err != nil {
				t.Fatal(err)
			}
			if a2.Version != a.Version || a2.SourceHash != a.SourceHash {
				t.Fatalf("A's card was rewritten: version %d → %d", a.Version, a2.Version)
			}
		})
	}
}

func vJsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return cmp.Equal(x, y)
}

func TestVendorSyncMemstore(t *testing.T) {
	vSync(t, func(*testing.T) cardstore.Store { return memstore.New() })
}

func TestVendorSyncMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	vSync(t, func(t *testing.T) cardstore.Store { return testenv.DynamoStore(t, endpoint) })
}

// Each vendor kind opened from SOURCES with its credential in Secrets
// Manager: the secret is read once at Open and used; a missing or empty
// secret stops Open with an error naming the key, never a secret's value.
func TestVendorSecrets(t *testing.T) {
	ctx := context.Background()
	entries := map[string]func(u string) string{
		"livechat": func(u string) string {
			return fmt.Sprintf(`{"kind": "livechat", "url": %q, "accountId": %q, "tokenSecret": "sm/livechat", "rps": 1000}`, u, lcAccount)
		},
		"intercom": func(u string) string {
			return fmt.Sprintf(`{"kind": "intercom", "url": %q, "tokenSecret": "sm/intercom"}`, u)
		},
		"genesys": func(u string) string {
			return fmt.Sprintf(`{"kind": "genesys", "apiUrl": %q, "loginUrl": %q, "clientId": %q, "clientSecretSecret": "sm/genesys", "rps": 1000}`, u, u, gcClient)
		},
		"botframework": func(u string) string {
			return fmt.Sprintf(`{"kind": "botframework", "url": %q, "tokenSecret": "sm/bf", "channelId": "emulator", "rps": 1000}`, u+"/transcripts")
		},
	}
	for _, c := range vSyncCases() {
		t.Run(c.kind, func(t *testing.T) {
			h := c.harness(t)
			specs, err := sources.ParseSources([]byte(`{"A": ` + entries[c.kind](h.fake.URL()) + `}`))
			if err != nil {
				t.Fatal(err)
			}
			secret := token
			if c.kind == "botframework" {
				secret = bfSAS
			}
			var asked []string
			env := sources.OpenEnv{Secret: func(_ context.Context, name string) (string, error) {
				asked = append(asked, name)
				return secret, nil
			}}
			r, err := sources.Open(ctx, specs, env)
			if err != nil {
				t.Fatal(err)
			}
			if len(asked) != 1 || !strings.HasPrefix(asked[0], "sm/") {
				t.Fatalf("secrets read: %v", asked)
			}
			if _, err := r.Fetch(ctx, sources.Request{Folder: "A", SessionID: h.id}); err != nil {
				t.Fatalf("fetch with the secret's credential: %v", err)
			}
			for _, bad := range []sources.OpenEnv{
				{},
				{Secret: func(context.Context, string) (string, error) { return " \n", nil }},
			} {
				_, err := sources.Open(ctx, specs, bad)
				if err == nil || !strings.Contains(err.Error(), `SOURCES["A"]`) || !strings.Contains(err.Error(), "Secret") {
					t.Fatalf("open without a usable secret: %v", err)
				}
			}
		})
	}
}
