package platform_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/transcript"
)

func encodeAll(t testing.TB, ts []*transcript.Transcript) [][]byte {
	t.Helper()
	out := make([][]byte, len(ts))
	for i, tr := range ts {
		b, err := transcript.Encode(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	opt := platform.GenerateOptions{N: 50, Seed: 11}
	a, b := encodeAll(t, platform.Generate(opt)), encodeAll(t, platform.Generate(opt))
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("session %d differs between two runs with one seed", i)
		}
	}
	opt.Seed = 12
	c := encodeAll(t, platform.Generate(opt))
	same := 0
	for i := range a {
		if bytes.Equal(a[i], c[i]) {
			same++
		}
	}
	if same == len(a) {
		t.Fatal("another seed made the same batch")
	}
}

func TestGenerateNormalizesAndRoundTrips(t *testing.T) {
	for _, tr := range platform.Generate(platform.GenerateOptions{N: 500, Seed: 1}) {
		body, err := transcript.Encode(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Normalize(); err != nil {
			t.Fatalf("%s: %v", tr.SessionID, err)
		}
		if len(tr.Warnings) > 0 {
			t.Fatalf("%s: warnings %v", tr.SessionID, tr.Warnings)
		}
		back, err := transcript.DecodeV1(body)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tr.SessionID, err, body)
		}
		again, _ := transcript.Encode(back)
		if !bytes.Equal(body, again) {
			t.Fatalf("%s does not survive decode/encode", tr.SessionID)
		}
	}
}

// TestGenerateVariety checks a batch holds every shape the engine must
// handle, so tests and the demo built on it cover them.
func TestGenerateVariety(t *testing.T) {
	ts := platform.Generate(platform.GenerateOptions{N: 300, Seed: 2, Start: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)})
	kinds := map[platform.Kind]int{}
	seen := map[string]bool{}
	channels, langs := map[string]bool{}, map[string]bool{}
	var msgs []int
	for _, tr := range ts {
		if err := tr.Normalize(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tr.SessionID, "w-2026-11-") || tr.Tenant != "helpdesk" {
			t.Fatalf("session id %q tenant %q", tr.SessionID, tr.Tenant)
		}
		kinds[platform.KindOf(tr)]++
		channels[tr.Channel], langs[tr.Language] = true, true
		n, queued, handedOff, agentIn := 0, false, false, false
		for i, e := range tr.Events {
			var p *transcript.Participant
			if e.P >= 0 {
				p = &tr.Participants[e.P]
			}
			switch e.Type {
			case transcript.EventMessage:
				n++
				if !utf8.ValidString(e.Text) {
					t.Fatalf("%s: invalid UTF-8", tr.SessionID)
				}
				for _, r := range e.Text {
					if r > 127 {
						seen["non-ascii"] = true
					}
				}
				if e.Automatic && p.Role == transcript.RoleBot {
					seen["bot greeting"] = true
				}
				if e.Automatic && p.Role == transcript.RoleSystem && handedOff && !agentIn {
					seen["queue notice"] = true
				}
				if p.Role == transcript.RoleCustomer && handedOff && !agentIn {
					queued = true
				}
				if p.Role == transcript.RoleSupervisor && p.Visibility == transcript.VisibilityCoach {
					seen["coach"] = true
				}
			case transcript.EventHandoff:
				handedOff = true
			case transcript.EventJoined:
				if p.Role == transcript.RoleAgent {
					agentIn = true
					if i > 0 && tr.Events[i-1].Type == transcript.EventLeft && tr.Events[i-1].At == e.At {
						seen["redirect"] = true
					}
				}
				if p.Visibility == transcript.VisibilityMonitor {
					seen["monitor"] = true
				}
			case transcript.EventAttachment:
				seen["attachment"] = true
			case transcript.EventTicket:
				seen["ticket"] = true
			case transcript.EventMarker:
				seen["marker"] = true
			case transcript.EventPage:
				seen["page"] = true
			case transcript.EventDormant:
				seen["dormant"] = true
			case transcript.EventResumed:
				seen["resumed"] = true
			}
		}
		if queued {
			seen["customer typed in the queue"] = true
		}
		for _, p := range tr.Participants {
			if p.Role == transcript.RoleCustomer && strings.HasPrefix(p.Person, "person/") {
				seen["customer person"] = true
			}
		}
		msgs = append(msgs, n)
	}
	for k := platform.Kind(0); k <= platform.KindRunning; k++ {
		if kinds[k] == 0 {
			t.Errorf("no %s session in 300", k)
		}
	}
	for _, want := range []string{"non-ascii", "bot greeting", "queue notice", "coach", "monitor", "redirect", "attachment", "ticket", "marker", "page", "dormant", "resumed", "customer typed in the queue", "customer person"} {
		if !seen[want] {
			t.Errorf("no %s in 300 sessions", want)
		}
	}
	for _, c := range []string{"web", "facebook", "sms", "teams"} {
		if !channels[c] {
			t.Errorf("no %s session", c)
		}
	}
	if len(langs) < 4 {
		t.Errorf("only languages %v", langs)
	}
	total := 0
	for _, n := range msgs {
		total += n
	}
	if avg := total / len(msgs); avg < 8 || avg > 60 {
		t.Errorf("%d messages a session on average, want a typical 10-60", avg)
	}
	// A small batch still shows every kind.
	small := map[platform.Kind]bool{}
	for _, tr := range platform.Generate(platform.GenerateOptions{N: 5, Seed: 99}) {
		small[platform.KindOf(tr)] = true
	}
	if len(small) != 5 {
		t.Errorf("a batch of 5 holds kinds %v, want all five", small)
	}
}

func TestGenerateHuge(t *testing.T) {
	tr := platform.Generate(platform.GenerateOptions{N: 1, Seed: 3, MessagesPerSession: 5000})[0]
	if err := tr.Normalize(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tr.Events {
		if e.Type == transcript.EventMessage {
			n++
		}
	}
	if n < 5000 || n > 5100 {
		t.Fatalf("%d messages, want about 5000", n)
	}
}

func TestCloseEvents(t *testing.T) {
	tr := platform.Generate(platform.GenerateOptions{N: 1, Seed: 4, Kinds: []platform.Kind{platform.KindRunning}})[0]
	tr.Events = append(tr.Events, platform.CloseEvents(tr)...)
	if err := tr.Normalize(); err != nil {
		t.Fatal(err)
	}
	if platform.KindOf(tr) == platform.KindRunning {
		t.Fatal("still running after CloseEvents")
	}
	if len(platform.CloseEvents(tr)) != 0 {
		t.Fatal("an ended session got more closing events")
	}
}

const token = "dev-token"

func newServer(t *testing.T, f platform.Faults) (*platform.Server, *httptest.Server) {
	t.Helper()
	s, err := platform.NewServer(platform.ServerOptions{Token: token, Faults: f, Seed: 1, PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

func get(t *testing.T, url, tok string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestServer(t *testing.T) {
	s, hs := newServer(t, platform.Faults{})
	ts := platform.Generate(platform.GenerateOptions{N: 20, Seed: 5})
	for _, tr := range ts {
		if err := s.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, _ := get(t, hs.URL+"/v1/health", ""); code != 200 {
		t.Fatalf("health %d", code)
	}
	id := ts[3].SessionID
	if code, h, _ := get(t, hs.URL+"/v1/sessions/"+id+"/transcript", ""); code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", code, h.Get("WWW-Authenticate"))
	}
	if code, _, _ := get(t, hs.URL+"/v1/sessions/"+id+"/transcript", "wrong"); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	if code, _, _ := get(t, hs.URL+"/v1/sessions/w-nope/transcript", token); code != 404 {
		t.Fatalf("unknown: %d", code)
	}
	code, _, body := get(t, hs.URL+"/v1/sessions/"+id+"/transcript", token)
	want, _ := transcript.Encode(ts[3])
	if code != 200 || !bytes.Equal(body, want) {
		t.Fatalf("transcript: %d, body equal %v", code, bytes.Equal(body, want))
	}
	if err := s.Advance(id, transcript.Event{At: ts[3].Events[len(ts[3].Events)-1].At + 1000, Type: transcript.EventMarker}); err == nil {
		t.Fatal("Advance accepted a marker without a marker")
	}
	if err := s.Advance("w-nope"); err == nil {
		t.Fatal("Advance of an unknown session")
	}
	if got := s.Requests(); got != 5 {
		t.Fatalf("Requests() = %d, want 5", got)
	}
	if code, _, _ := get(t, hs.URL+"/v1/transcripts?updatedSince=yesterday", token); code != 400 {
		t.Fatalf("bad updatedSince: %d", code)
	}
	if code, _, _ := get(t, hs.URL+"/v1/transcripts?cursor=!!", token); code != 400 {
		t.Fatalf("bad cursor: %d", code)
	}
}

func TestServerSweepPagesStably(t *testing.T) {
	s, hs := newServer(t, platform.Faults{})
	for _, tr := range platform.Generate(platform.GenerateOptions{N: 30, Seed: 6}) {
		if err := s.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		u := hs.URL + "/v1/transcripts?updatedSince=" + since
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		code, _, body := get(t, u, token)
		if code != 200 {
			t.Fatalf("page %d: %d %s", pages, code, body)
		}
		var p struct {
			Transcripts []json.RawMessage `json:"transcripts"`
			Next        string            `json:"next"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, raw := range p.Transcripts {
			tr, err := transcript.DecodeV1(raw)
			if err != nil {
				t.Fatal(err)
			}
			if seen[tr.SessionID] {
				t.Fatalf("%s on two pages", tr.SessionID)
			}
			seen[tr.SessionID] = true
		}
		if pages == 2 {
			// A session added mid-sweep sorts after the cursor: it is
			// picked up by this very sweep, nothing is skipped.
			mid := platform.Generate(platform.GenerateOptions{N: 1, Seed: 60})[0]
			mid.SessionID = "w-mid"
			if err := s.Put(mid); err != nil {
				t.Fatal(err)
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 31 || pages != 5 {
		t.Fatalf("%d sessions on %d pages, want 31 on 5", len(seen), pages)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	_, _, body := get(t, hs.URL+"/v1/transcripts?updatedSince="+future, token)
	if string(body) != `{"transcripts":[],"next":""}` {
		t.Fatalf("nothing new: %s", body)
	}
}

func TestServerFaults(t *testing.T) {
	s, hs := newServer(t, platform.Faults{Burst429: 2, RetryAfter: 3 * time.Second})
	tr := platform.Generate(platform.GenerateOptions{N: 1, Seed: 7})[0]
	if err := s.Put(tr); err != nil {
		t.Fatal(err)
	}
	u := hs.URL + "/v1/sessions/" + tr.SessionID + "/transcript"
	for i := range 2 {
		if code, h, _ := get(t, u, token); code != 429 || h.Get("Retry-After") != "3" {
			t.Fatalf("burst %d: %d Retry-After %q", i, code, h.Get("Retry-After"))
		}
	}
	if code, _, _ := get(t, u, token); code != 200 {
		t.Fatalf("after the burst: %d", code)
	}
	s.SetFaults(platform.Faults{ErrorRate: 0.5})
	fails := 0
	for range 100 {
		if code, _, _ := get(t, u, token); code == 500 {
			fails++
		}
	}
	if fails < 30 || fails > 70 {
		t.Fatalf("%d of 100 failed at a 50%% error rate", fails)
	}
	s.SetFaults(platform.Faults{TruncateRate: 1})
	if code, _, body := get(t, u, token); code != 200 || json.Valid(body) {
		t.Fatalf("truncate: %d, valid JSON %v", code, json.Valid(body))
	}
	s.SetFaults(platform.Faults{GarbleRate: 1})
	if code, _, body := get(t, u, token); code != 200 || json.Valid(body) {
		t.Fatalf("garble: %d, valid JSON %v", code, json.Valid(body))
	}
	s.SetFaults(platform.Faults{Latency: 100 * time.Millisecond})
	start := time.Now()
	if code, _, _ := get(t, u, token); code != 200 || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("latency: %d after %v", code, time.Since(start))
	}
}

func TestServerLoadDir(t *testing.T) {
	dir := t.TempDir()
	tr := platform.Generate(platform.GenerateOptions{N: 1, Seed: 8})[0]
	b, _ := transcript.Encode(tr)
	if err := os.WriteFile(filepath.Join(dir, "a.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	conn := `{"Version":"2019-08-26","InitialContactId":"c-1","ContactId":"c-1","Participants":[],"Transcript":[
	 {"AbsoluteTime":"2026-11-21T10:00:00.000Z","Id":"1","Type":"MESSAGE","ContentType":"text/plain","Content":"hei","ParticipantId":"p1","DisplayName":"Customer","ParticipantRole":"CUSTOMER"}]}`
	if err := os.WriteFile(filepath.Join(dir, "b.json"), []byte(conn), 0o600); err != nil {
		t.Fatal(err)
	}
	s, hs := newServer(t, platform.Faults{})
	n, err := s.LoadDir(dir)
	if err != nil || n != 2 {
		t.Fatalf("LoadDir: %d, %v", n, err)
	}
	for _, id := range []string{tr.SessionID, "c-1"} {
		if code, _, _ := get(t, hs.URL+"/v1/sessions/"+id+"/transcript", token); code != 200 {
			t.Fatalf("%s: %d", id, code)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "c.json"), []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "c.json") {
		t.Fatalf("a bad file: %v, want an error naming it", err)
	}
}

// TestOpenAPIMentionsEveryPath keeps docs/platform-openapi.yaml in step
// with the server's routes.
func TestOpenAPIMentionsEveryPath(t *testing.T) {
	doc, err := os.ReadFile("../../docs/platform-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range platform.Paths {
		if !bytes.Contains(doc, []byte("\n  "+p+":")) {
			t.Errorf("the OpenAPI doc has no path %s", p)
		}
	}
	for _, s := range []string{"openapi: 3.1", "bearerAuth", "Retry-After", "updatedSince", "cursor", `"404"`, `"429"`, `"401"`} {
		if !bytes.Contains(doc, []byte(s)) {
			t.Errorf("the OpenAPI doc does not mention %s", s)
		}
	}
}

// About half the live chats carry a post-chat rating after their end
// (transcript rule 5), scores 1–5, some with a comment; other kinds none.
func TestGenerateRatings(t *testing.T) {
	ts := platform.Generate(platform.GenerateOptions{N: 400, Seed: 3, Start: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)})
	live, rated, comments := 0, 0, 0
	scores := map[int]int{}
	for _, tr := range ts {
		var ended, rating *transcript.Event
		for i := range tr.Events {
			switch e := &tr.Events[i]; e.Type {
			case transcript.EventEnded:
				if ended == nil {
					ended = e
				}
			case transcript.EventRating:
				rating = e
			}
		}
		if platform.KindOf(tr) == platform.KindLive {
			live++
		} else if rating != nil {
			t.Fatalf("%s (%v) has a rating", tr.SessionID, platform.KindOf(tr))
		}
		if rating == nil {
			continue
		}
		rated++
		scores[rating.Score]++
		if rating.Comment != "" {
			comments++
		}
		if ended == nil || rating.At <= ended.At || rating.Score < 1 || rating.Score > 5 {
			t.Fatalf("%s: rating %+v, end %+v", tr.SessionID, rating, ended)
		}
	}
	if live == 0 || rated < live/3 || rated > live*2/3 || comments == 0 || len(scores) < 4 {
		t.Errorf("live %d, rated %d, with comment %d, scores %v", live, rated, comments, scores)
	}
}
