package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
)

func deps(t *testing.T) app.Deps {
	m, _ := json.Marshal(map[string][]string{api.HashToken("tok"): {"acme"}})
	toks, err := api.ParseTokens(m)
	if err != nil {
		t.Fatal(err)
	}
	return app.Deps{Store: memstore.New(), Tokens: toks, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func call(t *testing.T, h http.Handler, method, target, token, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == "POST" && strings.HasSuffix(strings.Split(target, "?")[0], "chat-sessions") {
		req = httptest.NewRequest(method, target, strings.NewReader(`{"sessionId":"s1","startedAt":"2026-11-20T09:00:00Z"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr
}

func TestShareSettings(t *testing.T) {
	const key = "a-share-key-that-is-long-enough-0123456789"
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"SHARE_KEY": "short-secret-value"}, "SHARE_KEY: the key has 18 bytes, want at least 32"},
		{map[string]string{"SHARE_KEY": key, "SHARE_KEY_SECRET": "name"}, "not both"},
		{map[string]string{"SHARE_KEY": key, "SHARE_BASE_URL": "api.example.com"}, "SHARE_BASE_URL"},
		{map[string]string{"FOLDERS": `{"acme": {"timeZone": "Mars/Olympus"}}`}, "FOLDERS"},
	} {
		_, err := app.API(context.Background(), func(k string) string { return tc.env[k] }, deps(t))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "short-secret-value") {
			t.Errorf("the error shows the key: %v", err)
		}
	}

	// Configured: a link is made and opens, and the page is in the folder's zone.
	env := map[string]string{"SHARE_KEY": key, "SHARE_BASE_URL": "https://api.example.com", "FOLDERS": `{"acme": {"timeZone": "Europe/Helsinki"}}`}
	h, err := app.API(context.Background(), func(k string) string { return env[k] }, deps(t))
	if err != nil {
		t.Fatal(err)
	}
	if rr := call(t, h, "POST", "/v1/chat-sessions?folder=acme", "tok", ""); rr.Code != 201 {
		t.Fatalf("create: %d %s", rr.Code, rr.Body)
	}
	rr := call(t, h, "POST", "/v1/chat-sessions/s1/share?folder=acme", "tok", "")
	var a struct{ URL, ExpiresAt string }
	if rr.Code != 200 || json.Unmarshal(rr.Body.Bytes(), &a) != nil || !strings.HasPrefix(a.URL, "https://api.example.com/v1/chat-sessions/s1?folder=acme&share=") {
		t.Fatalf("share: %d %s", rr.Code, rr.Body)
	}
	rr = call(t, h, "GET", strings.TrimPrefix(a.URL, "https://api.example.com"), "", "")
	if rr.Code != 200 || !strings.Contains(rr.Body.String(), "11:00:00 EET") {
		t.Errorf("link: %d %s", rr.Code, rr.Body)
	}

	// Not configured: sharing is off, the rest works.
	h, err = app.API(context.Background(), func(string) string { return "" }, deps(t))
	if err != nil {
		t.Fatal(err)
	}
	call(t, h, "POST", "/v1/chat-sessions?folder=acme", "tok", "")
	if rr := call(t, h, "POST", "/v1/chat-sessions/s1/share?folder=acme", "tok", ""); rr.Code != 501 {
		t.Errorf("share without a key: %d", rr.Code)
	}
}
