package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/card"
)

func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func TestLambdaCreateAndGet(t *testing.T) {
	e := newEnv(t)
	lh := api.NewLambdaHandler(e.h)
	res, err := lh(context.Background(), loadEvent(t, "apigw-v2-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 201 || res.Headers["Location"] != "/v1/chat-sessions/w-2026-11-20-0001?folder=acme" {
		t.Fatalf("create: %d %v %s", res.StatusCode, res.Headers, res.Body)
	}
	if res.IsBase64Encoded || res.Headers["Content-Type"] != "application/json" {
		t.Errorf("JSON answer should travel as text: %+v", res)
	}
	if res.Headers["X-Request-Id"] != "BqH2sj-fgi0EMkw=" {
		t.Errorf("request id %q, want the API Gateway one", res.Headers["X-Request-Id"])
	}
	var c card.Card
	if err := json.Unmarshal([]byte(res.Body), &c); err != nil || c.CustomerName != "Jane Doe" || c.Language != "en" {
		t.Fatalf("card %s: %v", res.Body, err)
	}
	// The response survives the JSON trip back to API Gateway.
	raw, _ := json.Marshal(res)
	var back events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &back); err != nil || back.StatusCode != 201 || back.Body != res.Body {
		t.Fatalf("response round trip: %v", err)
	}

	res, _ = lh(context.Background(), loadEvent(t, "apigw-v2-get.json"))
	if res.StatusCode != 200 {
		t.Fatalf("get: %d %s", res.StatusCode, res.Body)
	}
}

func TestLambdaRequestIDIn500(t *testing.T) {
	e := newEnv(t)
	e.store.get = func(context.Context, string, string) (*card.Card, error) { return nil, errors.New("boom") }
	res, _ := api.NewLambdaHandler(e.h)(context.Background(), loadEvent(t, "apigw-v2-get.json"))
	if res.StatusCode != 500 || !strings.Contains(res.Body, `"requestId":"BqH3Ajd-fgi0EMkx="`) {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if !strings.Contains(e.logs.String(), "BqH3Ajd-fgi0EMkx=") {
		t.Errorf("log lacks the request id: %s", e.logs)
	}
}

type ctxMark struct{}

func TestLambdaConversion(t *testing.T) {
	var seen *http.Request
	var seenBody []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		seenBody, _ = io.ReadAll(r.Body)
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Origin")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(202)
		_, _ = w.Write([]byte{0, 1, 2, 0xff})
	})
	ev := loadEvent(t, "apigw-v2-create.json")
	ev.RawPath = "/v1/chat-sessions/a%3Ab"
	ctx := context.WithValue(context.Background(), ctxMark{}, "here")
	res, err := api.NewLambdaHandler(h)(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if seen.Method != "POST" || seen.URL.Path != "/v1/chat-sessions/a:b" || seen.URL.EscapedPath() != "/v1/chat-sessions/a%3Ab" {
		t.Errorf("method/path: %s %s %s", seen.Method, seen.URL.Path, seen.URL.EscapedPath())
	}
	if seen.URL.Query().Get("folder") != "acme" || seen.URL.Query().Get("trace") != "1" {
		t.Errorf("query %q", seen.URL.RawQuery)
	}
	if seen.Header.Get("Authorization") != "Bearer token-for-folder-acme" || seen.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("headers %v", seen.Header)
	}
	if c, err := seen.Cookie("theme"); err != nil || c.Value != "dark" {
		t.Errorf("cookies %v", seen.Header["Cookie"])
	}
	if !strings.HasPrefix(string(seenBody), `{"sessionId":"w-2026-11-20-0001"`) || seen.ContentLength != int64(len(seenBody)) {
		t.Errorf("body %q (length %d)", seenBody, seen.ContentLength)
	}
	if seen.Host != "abc123defg.execute-api.eu-north-1.amazonaws.com" || seen.RemoteAddr != "203.0.113.7" {
		t.Errorf("host %q remote %q", seen.Host, seen.RemoteAddr)
	}
	if seen.Context().Value(ctxMark{}) != "here" {
		t.Errorf("context not passed through")
	}
	if res.StatusCode != 202 || !res.IsBase64Encoded {
		t.Fatalf("response %+v", res)
	}
	if b, _ := base64.StdEncoding.DecodeString(res.Body); string(b) != "\x00\x01\x02\xff" {
		t.Errorf("binary body %q", b)
	}
	if strings.Join(res.Cookies, ";") != "a=1;b=2" || res.Headers["Vary"] != "Accept,Origin" {
		t.Errorf("cookies %v headers %v", res.Cookies, res.Headers)
	}
	if _, ok := res.Headers["Set-Cookie"]; ok {
		t.Errorf("Set-Cookie belongs in Cookies")
	}
}

func TestLambdaMalformedEvent(t *testing.T) {
	e := newEnv(t)
	cases := map[string]func(*events.APIGatewayV2HTTPRequest){
		"bad base64":  func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = "!!!" },
		"no method":   func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "" },
		"bad path":    func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "no-slash" },
		"bad method":  func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "GE T" },
		"query space": func(ev *events.APIGatewayV2HTTPRequest) { ev.RawQueryString = "folder=a b" },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			ev := loadEvent(t, "apigw-v2-create.json")
			mod(&ev)
			res, err := api.NewLambdaHandler(e.h)(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 400 && res.StatusCode != 401 || res.Headers["Content-Type"] != "application/problem+json" || !json.Valid([]byte(res.Body)) {
				t.Errorf("%d %v %s", res.StatusCode, res.Headers, res.Body)
			}
			if res.StatusCode == 400 {
				// Like every 400 of the API, the adapter's names what to fix.
				var p struct {
					Errors []struct{ Field, Message string } `json:"errors"`
				}
				if json.Unmarshal([]byte(res.Body), &p) != nil || len(p.Errors) != 1 || p.Errors[0].Field == "" || p.Errors[0].Message == "" {
					t.Errorf("400 names no field: %s", res.Body)
				}
			}
		})
	}
}
