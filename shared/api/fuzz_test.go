package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/api"
)

// hostileBodies are the shapes of issue 9 §3 that a lax reader once folded,
// merged or repaired into a stored card; testdata/fuzz holds them too.
var hostileBodies = []string{
	`{"SESSIONID":"x"}`,
	`{"ſessionId":"x"}`,
	`{"sessionId":"a","SESSIONID":"b"}`,
	`{"sessionId":"x","customer":{"Name":"x"}}`,
	`{"sessionId":"a","sessionId":"b"}`,
	`{"sessionId":"a","\u0073essionId":"b"}`,
	`{"sessionId":"x","metadata":{"k":"a","k":"b"}}`,
	"{\"sessionId\":\"x\xff\"}",
	"{\"sessionId\":\"x\",\"metadata\":{\"k\":\"\xed\xa0\x80\"}}",
	"{\"sessionId\":\"x\",\"metadata\":{\"\xc0\xaf\":\"v\"}}",
	`{"sessionId":null}`,
	`{"sessionId":"x","metadata":{"k":null}}`,
	`{"sessionId":"x","pages":[null]}`,
	`{"sessionId":"x","customer":null}`,
	`{"":null}`,
}

// FuzzDecodeCreate: any bytes decode to a request or to a DecodeError that
// names a field, and a decoded request validates without panicking. What
// the strict reader accepts, the lax encoding/json reads the same way: no
// case folding, duplicate, null or repaired UTF-8 got through.
func FuzzDecodeCreate(f *testing.F) {
	for _, s := range hostileBodies {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		fullCreate,
		`{"sessionId":"s1"}`,
		`{"sessionId":"s1"}{}`,
		`{"sessionId":1}`,
		`{"metadata":{"a":{"b":1}}}`,
		`{"customer":{"person":"p","x":1}}`,
		`{"pages":["", "\u0000"]}`,
		`{"startedAt":"2026-11-20T09:00:00.123456789-23:59"}`,
		`{"language":"x-private-use"}`,
		`[1,2,3]`,
		`"\ud800"`,
		`{"sessionId":"` + strings.Repeat("a", 200) + `"}`,
		``,
		`nul`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := api.DecodeCreate(bytes.NewReader(b))
		if err != nil {
			var de *api.DecodeError
			if !errors.As(err, &de) || de.Field == "" || de.Message == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		for _, fe := range req.Validate() {
			if fe.Field == "" || fe.Message == "" {
				t.Fatalf("validation error without a field: %+v", fe)
			}
		}
		if !utf8.Valid(b) {
			t.Fatalf("accepted invalid UTF-8: %q", b)
		}
		var lax api.CreateRequest
		if err := json.Unmarshal(b, &lax); err != nil {
			t.Fatalf("strict reader accepted what encoding/json refuses (%v): %q", err, b)
		}
		if !reflect.DeepEqual(&lax, req) {
			t.Fatalf("strict and lax readings differ for %q:\nstrict %+v\nlax    %+v", b, req, &lax)
		}
	})
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}
var fuzzTokens = []string{"", tokenA, tokenB, tokenAll, "wrong"}

// FuzzHandler sends arbitrary requests through the whole handler, directly
// or through the Lambda adapter: never a 500, never a panic, every error a
// problem document.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		m            uint8
		path, query  string
		tok          uint8
		ctype        string
		body         string
		viaLambda    bool
		base64Encode bool
	}{
		{1, "/v1/chat-sessions", "folder=acme", 1, "application/json", fullCreate, false, false},
		{1, "/v1/chat-sessions", "folder=acme", 1, "application/json", `{"sessionId":"s1"}`, true, true},
		{0, "/v1/chat-sessions/s1", "folder=acme", 1, "", "", false, false},
		{0, "/v1/chat-sessions/s1", "folder=beta", 1, "", "", true, false},
		{1, "/v1/chat-sessions/s1/tickets", "folder=acme", 3, "application/json; charset=utf-8", `{"ticket":"INC-1"}`, false, false},
		{0, "/v1/reports", "folder=acme&date=2026-11-20", 1, "", "", false, false},
		{0, "/v1/reports", "folder=acme&date=2026-13-40", 1, "", "", false, false},
		{0, "/v1/health", "", 0, "", "", true, false},
		{3, "/v1/chat-sessions/s1", "folder=acme", 1, "", "", false, false},
		{1, "/v1/chat-sessions", "folder=%zz;x", 4, "text/plain", "x", false, false},
		{1, "/v1/chat-sessions/../x", "", 1, "application/json", "{", true, false},
		{6, "//v1///chat-sessions/", "folder=", 2, "application/json;", "null", false, false},
		{1, "/v1/chat-sessions", "folder=acme", 1, "application/json", `{"sessionId":"s2","metadata":{"k":"` + strings.Repeat("v", 600) + `"}}`, false, false},
	}
	for _, s := range seeds {
		f.Add(s.m, s.path, s.query, s.tok, s.ctype, []byte(s.body), s.viaLambda, s.base64Encode)
	}
	for i, b := range hostileBodies {
		f.Add(uint8(1), "/v1/chat-sessions", "folder=acme", uint8(1), "application/json", []byte(b), i%2 == 1, i%2 == 1)
	}
	e := newEnv(f)
	cardOf(f, e.create(folderA, tokenA, `{"sessionId":"s1"}`), http.StatusCreated)
	lh := api.NewLambdaHandler(e.h)
	f.Fuzz(func(t *testing.T, m uint8, path, query string, tok uint8, ctype string, body []byte, viaLambda, b64 bool) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		token := fuzzTokens[int(tok)%len(fuzzTokens)]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		var status int
		var header http.Header
		var out []byte
		if viaLambda {
			ev := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query, Headers: map[string]string{}}
			ev.RequestContext.HTTP.Method = method
			ev.RequestContext.RequestID = "fuzz"
			if token != "" {
				ev.Headers["authorization"] = "Bearer " + token
			}
			if ctype != "" {
				ev.Headers["content-type"] = ctype
			}
			ev.Body = string(body)
			if b64 {
				ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
			}
			res, err := lh(context.Background(), ev)
			if err != nil {
				t.Fatalf("adapter error: %v", err)
			}
			status, header = res.StatusCode, http.Header{}
			for k, v := range res.Headers {
				header.Set(k, v)
			}
			out = []byte(res.Body)
			if res.IsBase64Encoded {
				out, _ = base64.StdEncoding.DecodeString(res.Body)
			}
		} else {
			r := &http.Request{
				Method:        method,
				URL:           &url.URL{Path: path, RawQuery: query},
				Proto:         "HTTP/1.1",
				ProtoMajor:    1,
				ProtoMinor:    1,
				Header:        http.Header{},
				Body:          io.NopCloser(bytes.NewReader(body)),
				ContentLength: int64(len(body)),
				Host:          "example.com",
				RemoteAddr:    "127.0.0.1:1",
			}
			r = r.WithContext(context.Background())
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			if ctype != "" {
				r.Header.Set("Content-Type", ctype)
			}
			rr := httptest.NewRecorder()
			e.h.ServeHTTP(rr, r)
			status, header, out = rr.Code, rr.Header(), rr.Body.Bytes()
		}
		if status >= 500 && status != http.StatusServiceUnavailable {
			t.Fatalf("%s %s?%s: status %d: %s", method, path, query, status, out)
		}
		if status >= 400 {
			if ct := header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("%s %s: status %d with Content-Type %q", method, path, status, ct)
			}
			var p struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
				Errors []struct {
					Field   string `json:"field"`
					Message string `json:"message"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(out, &p); err != nil || p.Status != status || p.Type == "" {
				t.Fatalf("%s %s: bad problem body %q", method, path, out)
			}
			if status == http.StatusBadRequest {
				// Every 400 says which field (or "body") to fix.
				if len(p.Errors) == 0 {
					t.Fatalf("%s %s: 400 names no field: %s", method, path, out)
				}
				for _, fe := range p.Errors {
					if fe.Field == "" || fe.Message == "" {
						t.Fatalf("%s %s: 400 with an empty field or message: %s", method, path, out)
					}
				}
			}
		}
	})
}
