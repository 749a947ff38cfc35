package api_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/chatcards/chatcards/shared/api"
)

func TestParseTokensRejects(t *testing.T) {
	h := api.HashToken("t")
	cases := map[string]string{
		"not JSON":        `nope`,
		"array":           `["` + h + `"]`,
		"empty":           `{}`,
		"short hash":      `{"abcd":["acme"]}`,
		"not hex":         `{"` + strings.Repeat("z", 64) + `":["acme"]}`,
		"no folder":       `{"` + h + `":[]}`,
		"bad folder":      `{"` + h + `":["a/b"]}`,
		"folder not list": `{"` + h + `":"acme"}`,
		"twice by case":   `{"` + h + `":["a"],"` + strings.ToUpper(h) + `":["b"]}`,
		"trailing":        `{"` + h + `":["a"]} {}`,
		"twice exactly":   `{"` + h + `":["a"],"` + h + `":["b"]}`,
		"null folder":     `{"` + h + `":[null]}`,
		"folder number":   `{"` + h + `":[1]}`,
		"invalid UTF-8":   `{"` + h + "\":[\"a\xff\"]}",
		"null":            `null`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := api.ParseTokens([]byte(in))
			if err == nil {
				t.Fatalf("accepted %s", in)
			}
			if strings.Contains(err.Error(), h[9:]) {
				t.Errorf("error repeats the whole hash: %v", err)
			}
		})
	}
}

func TestTokensUppercaseHashAndStar(t *testing.T) {
	toks, err := api.ParseTokens([]byte(`{"` + strings.ToUpper(api.HashToken("up")) + `":["acme"],"` + api.HashToken("star") + `":["*"]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *api.Config) { c.Tokens = toks })
	cardOf(t, e.create("acme", "up", `{"sessionId":"s1"}`), 201)
	problemOf(t, e.create("other", "up", `{"sessionId":"s1"}`), 403)
	cardOf(t, e.create("other", "star", `{"sessionId":"s1"}`), 201)
	// The scheme is case-insensitive; a bare token or another scheme is not a bearer token.
	for _, h := range []string{"bearer up", "BEARER up"} {
		if got := callAuth(e, h); got != 200 {
			t.Errorf("Authorization %q: %d", h, got)
		}
	}
	for _, h := range []string{"up", "Basic up", "Bearer", "Bearer ", "Bearerup"} {
		if got := callAuth(e, h); got != 401 {
			t.Errorf("Authorization %q: %d, want 401", h, got)
		}
	}
}

// callAuth reads card s1 of acme with a raw Authorization header.
func callAuth(e *env, authorization string) int {
	req := httptest.NewRequest("GET", "/v1/chat-sessions/s1?folder=acme", nil)
	req.Header.Set("Authorization", authorization)
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	return rr.Code
}

type fakeSecrets struct {
	value *string
	err   error
	asked string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = *in.SecretId
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, nil
}

func TestLoadTokensSecret(t *testing.T) {
	good := `{"` + api.HashToken("s") + `":["acme"]}`
	sm := &fakeSecrets{value: &good}
	toks, err := api.LoadTokensSecret(context.Background(), sm, "chatcards/api-tokens")
	if err != nil || toks == nil || sm.asked != "chatcards/api-tokens" {
		t.Fatalf("load: %v (asked %q)", err, sm.asked)
	}
	bad := `{}`
	for name, f := range map[string]*fakeSecrets{
		"call fails":  {err: errors.New("AccessDenied")},
		"no string":   {},
		"bad content": {value: &bad},
	} {
		if _, err := api.LoadTokensSecret(context.Background(), f, "n"); err == nil || !strings.Contains(err.Error(), "secret n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := api.LoadTokensSecret(context.Background(), sm, ""); err == nil {
		t.Errorf("empty name accepted")
	}
}

// FuzzParseTokens: any API_TOKENS text parses or fails with an error that
// never repeats a whole hash; a parsed set grants what its text says.
func FuzzParseTokens(f *testing.F) {
	h := api.HashToken("t")
	for _, s := range []string{
		`{"` + h + `":["acme"]}`,
		`{"` + h + `":["*"]}`,
		`{"` + h + `":["a"],"` + h + `":["b"]}`,
		`{"` + h + `":["a"],"` + strings.ToUpper(h) + `":["b"]}`,
		`{"` + h + `":[null]}`,
		`{"` + h + "\":[\"a\xff\"]}",
		`{"` + h + `":["a"]} x`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		toks, err := api.ParseTokens(b)
		if err != nil {
			if strings.Contains(err.Error(), h[9:]) {
				t.Fatalf("error repeats a whole hash: %v", err)
			}
			return
		}
		if toks == nil {
			t.Fatal("nil tokens without an error")
		}
	})
}
