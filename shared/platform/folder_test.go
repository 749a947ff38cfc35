package platform_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatcards/chatcards/shared/platform"
)

// TestServerServesOnlyTheAskedFolder: with ?folder= the server answers a
// session only when its tenant is that folder, and another folder's (or an
// untagged) session exactly as an unknown one; the sweep filters the same.
func TestServerServesOnlyTheAskedFolder(t *testing.T) {
	plat, srv := newServer(t, platform.Faults{})
	a := platform.Generate(platform.GenerateOptions{N: 2, Seed: 1, Folder: "A"})
	b := platform.Generate(platform.GenerateOptions{N: 1, Seed: 2, Folder: "B"})
	b[0].SessionID = "only-b"
	for _, tr := range append(a, b...) {
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	plat.PutRaw("raw-a", []byte(`{"version":1,"sessionId":"raw-a","tenant":"A","participants":[],"events":[]}`))
	plat.PutRaw("untagged", []byte(`{"version":1,"sessionId":"untagged","participants":[],"events":[]}`))
	id := a[0].SessionID
	for _, c := range []struct {
		path string
		want int
	}{
		{"/v1/sessions/" + id + "/transcript", 200},
		{"/v1/sessions/" + id + "/transcript?folder=A", 200},
		{"/v1/sessions/" + id + "/transcript?folder=B", 404},
		{"/v1/sessions/only-b/transcript?folder=A", 404},
		{"/v1/sessions/only-b/transcript?folder=B", 200},
		{"/v1/sessions/raw-a/transcript?folder=A", 200},
		{"/v1/sessions/raw-a/transcript?folder=B", 404},
		{"/v1/sessions/untagged/transcript?folder=A", 404},
		{"/v1/sessions/untagged/transcript", 200},
	} {
		if code, _, body := get(t, srv.URL+c.path, token); code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.path, code, c.want, body)
		}
	}
	// The 404 of another folder's session is the unknown session's, byte for byte.
	_, _, other := get(t, srv.URL+"/v1/sessions/only-b/transcript?folder=A", token)
	_, _, unknown := get(t, srv.URL+"/v1/sessions/nobody/transcript?folder=A", token)
	if string(other) != string(unknown) {
		t.Errorf("another folder's 404 %q differs from an unknown session's %q", other, unknown)
	}
	code, _, body := get(t, srv.URL+"/v1/transcripts?folder=B", token)
	var page struct {
		Transcripts []struct {
			SessionID string `json:"sessionId"`
		} `json:"transcripts"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Transcripts) != 1 || page.Transcripts[0].SessionID != "only-b" {
		t.Fatalf("sweep of B: %d %s", code, body)
	}
}
