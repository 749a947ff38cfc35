package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestServeDevTokenAndShutdown(t *testing.T) {
	env := map[string]string{}
	h, tok, err := serveHandler(context.Background(), func(k string) string { return env[k] }, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil || !strings.HasPrefix(tok, "dev-") {
		t.Fatalf("handler: %v, token %q", err, tok)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() { done <- serveUntilDone(ctx, ln, h, &logs) }()
	base := "http://" + ln.Addr().String()
	for _, folder := range []string{"demo", "any-other"} {
		req, _ := http.NewRequest("POST", base+"/v1/chat-sessions?folder="+folder, strings.NewReader(`{"sessionId":"s1"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Errorf("folder %s: status %d", folder, res.StatusCode)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestServeUsesAPITokens(t *testing.T) {
	env := map[string]string{"API_TOKENS": `{"` + strings.Repeat("ab", 32) + `":["acme"]}`}
	_, tok, err := serveHandler(context.Background(), func(k string) string { return env[k] }, slog.Default())
	if err != nil || tok != "" {
		t.Fatalf("configured tokens: err %v, generated %q", err, tok)
	}
	env["API_TOKENS"] = `{"nope":["acme"]}`
	if _, _, err := serveHandler(context.Background(), func(k string) string { return env[k] }, slog.Default()); err == nil || !strings.Contains(err.Error(), "API_TOKENS") {
		t.Fatalf("bad API_TOKENS: %v", err)
	}
}

func TestLoadRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.168.1.2", "http://example.com", "ftp://127.0.0.1", "127.0.0.1:80"} {
		var out, errb bytes.Buffer
		if code := runLoad(context.Background(), []string{"-url", u, "-token", "t"}, &out, &errb); code != 2 {
			t.Errorf("%s: exit %d, want 2 (%s)", u, code, errb.String())
		}
	}
}

func TestLoadAgainstLocalServer(t *testing.T) {
	h, tok, err := serveHandler(context.Background(), func(string) string { return "" }, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go serveUntilDone(ctx, ln, h, io.Discard)
	var out, errb bytes.Buffer
	code := runLoad(context.Background(), []string{"-url", "http://" + ln.Addr().String(), "-token", tok, "-c", "1,4", "-d", "300ms", "-n", "200"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Count(out.String(), "clients")
	if lines != 2 || !strings.Contains(out.String(), " 0 errors") || !strings.Contains(out.String(), "req/s") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// serve is configured like the API function: SHARE_KEY turns share links on
// (they were 501 whatever the environment said) and a bad STORE_TIMEOUT
// stops the start, naming the variable.
func TestServeReadsTheFunctionsSettings(t *testing.T) {
	env := map[string]string{"SHARE_KEY": strings.Repeat("k", 48)}
	get := func(k string) string { return env[k] }
	h, tok, err := serveHandler(context.Background(), get, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			t.Logf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec.Code
	}
	if code := do("POST", "/v1/chat-sessions?folder=demo", `{"sessionId":"s1"}`); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if code := do("POST", "/v1/chat-sessions/s1/share?folder=demo", ""); code != http.StatusOK {
		t.Errorf("share with SHARE_KEY set: %d, want 200", code)
	}
	env["STORE_TIMEOUT"] = "forever"
	if _, _, err := serveHandler(context.Background(), get, slog.Default()); err == nil || !strings.Contains(err.Error(), "STORE_TIMEOUT") {
		t.Errorf("bad STORE_TIMEOUT: %v", err)
	}
}

// serve is the local twin of the api function: FOLDERS and SHARE_KEY must
// reach it, or share links answer 501 and the dialog view ignores the
// folder's zone.
func TestServeSharesLinksInTheFolderZone(t *testing.T) {
	env := map[string]string{
		"SHARE_KEY": strings.Repeat("k", 40),
		"FOLDERS":   `{"acme": {"timeZone": "Europe/Helsinki"}}`,
	}
	h, tok, err := serveHandler(context.Background(), func(k string) string { return env[k] }, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	call := func(method, url, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if auth {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := call("POST", srv.URL+"/v1/chat-sessions?folder=acme", `{"sessionId":"s1","startedAt":"2026-11-20T09:00:00Z"}`, true); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body := call("POST", srv.URL+"/v1/chat-sessions/s1/share?folder=acme", "", true)
	if code != http.StatusOK {
		t.Fatalf("share: %d %s (SHARE_KEY not wired?)", code, body)
	}
	var link struct{ URL string }
	if err := json.Unmarshal([]byte(body), &link); err != nil || !strings.HasPrefix(link.URL, srv.URL+"/v1/chat-sessions/s1?folder=acme&share=") {
		t.Fatalf("share answer %s (%v)", body, err)
	}
	code, page := call("GET", link.URL, "", false)
	if code != http.StatusOK || !strings.Contains(page, "+02:00") && !strings.Contains(page, "11:00") {
		t.Fatalf("link: %d, page in the folder's zone? %s", code, page)
	}
	if code, _ := call("GET", strings.Replace(link.URL, "folder=acme", "folder=other", 1), "", false); code != http.StatusForbidden {
		t.Fatalf("link moved to another folder: %d, want 403", code)
	}
}
