package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// This file holds what the vendor API sources (livechat, intercom, genesys,
// botframework) share: the common SOURCES keys, the token or secret they
// read, and the step from the platform's own file to a Result.

// RateSettings are the rate keys every platform API kind has (rps and
// timeout); APISettings embeds them for the kinds with a url and token.
type RateSettings struct {
	RPS     *float64 `json:"rps"`     // request-rate ceiling, default per kind
	Timeout *Seconds `json:"timeout"` // per request, default 10 s
}

func (a RateSettings) check() error {
	if a.RPS != nil && (*a.RPS <= 0 || math.IsInf(*a.RPS, 0) || math.IsNaN(*a.RPS)) {
		return fmt.Errorf("rps: %v must be a positive number (requests per second)", *a.RPS)
	}
	if a.Timeout != nil && *a.Timeout <= 0 {
		return errors.New("timeout: must be positive")
	}
	return nil
}

// clientOptions are the Client options these keys give, for kind, on the
// OpenEnv's HTTP client; defaultRPS applies when rps is not set.
func (a RateSettings) clientOptions(kind string, defaultRPS float64, env OpenEnv) ClientOptions {
	o := ClientOptions{Name: kind, RPS: defaultRPS, Client: env.HTTPClient}
	if a.RPS != nil {
		o.RPS = *a.RPS
	}
	if a.Timeout != nil {
		o.Timeout = time.Duration(*a.Timeout)
	}
	// In fan-out each worker gets its share, so the fleet stays under the
	// platform's ceiling (docs/sync.md).
	o.RPS = env.share(o.RPS)
	return o
}

// checkSecretPair is the rule of a key that is given inline or as a Secrets
// Manager name: exactly one of the two.
func checkSecretPair(key, value, secretKey, secret string) error {
	switch {
	case value == "" && secret == "":
		return fmt.Errorf("%s: %s or %s is required", key, key, secretKey)
	case value != "" && secret != "":
		return fmt.Errorf("%s: %s and %s are both set: set only one", secretKey, key, secretKey)
	}
	return nil
}

// resolveSecret returns value, or reads the named secret when value is
// empty. Errors name the key, never the secret's content.
func resolveSecret(ctx context.Context, env OpenEnv, secretKey, value, secret string) (string, error) {
	if value != "" {
		return value, nil
	}
	if env.Secret == nil {
		return "", fmt.Errorf("%s: no Secrets Manager client here", secretKey)
	}
	v, err := env.Secret(ctx, secret)
	if err != nil {
		return "", fmt.Errorf("%s: %w", secretKey, err)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%s: secret %s is empty", secretKey, secret)
	}
	return v, nil
}

// checkBaseURL validates an absolute http(s) base URL under key and returns
// it without a trailing slash, query or fragment.
func checkBaseURL(key, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an absolute http(s) URL", key, raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%s: must not carry credentials; use the token keys", key)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// vendorResult decodes the platform file doc with the kind's decoder and
// checks it is the session asked for (sessionID "" skips that check: a
// sweep's answers name their own sessions): the Result carries the file's
// hash and the platform's own figures.
func vendorResult(sessionID string, doc []byte, decode func([]byte) (*formats.Decoded, error)) (Result, error) {
	d, err := decode(doc)
	if err != nil {
		id := sessionID
		if id == "" {
			id = "(unknown)"
		}
		return Result{}, badTranscript(id, err)
	}
	if sessionID != "" {
		if err := checkSession(sessionID, d.Transcript); err != nil {
			return Result{}, err
		}
	}
	return Result{Transcript: d.Transcript, Hash: HashDocs(doc), Figures: d.Figures}, nil
}

// statusError is a final status a vendor source does not accept, named by
// kind, folder and request; the body is never shown (it could echo
// anything, a token included). 401 and 403 say what to check.
func vendorStatusError(kind, folder, what string, status int) error {
	msg := fmt.Sprintf("sources: %s: folder %s: %s: status %d %s", kind, folderName(folder), what, status, http.StatusText(status))
	switch status {
	case http.StatusUnauthorized:
		msg += " (the platform refused the credentials: check the token or its secret)"
	case http.StatusForbidden:
		msg += " (the credentials lack the permission or scope this call needs)"
	}
	return errors.New(msg)
}

func folderName(f string) string {
	if f == "" {
		return DefaultFolder
	}
	return f
}

// joinJSON writes {"<k0>": v0, "<k1>": v1, ...} from raw JSON values, in
// the order given, so the same platform answers always give the same bytes
// (and the same hash).
func joinJSON(pairs ...any) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		// A JSON string, not Go's %q: keys may come from outside data.
		k, _ := json.Marshal(pairs[i].(string))
		b.Write(k)
		b.WriteByte(':')
		switch v := pairs[i+1].(type) {
		case []byte:
			b.Write(v)
		case [][]byte:
			b.WriteByte('[')
			for j, e := range v {
				if j > 0 {
					b.WriteByte(',')
				}
				b.Write(e)
			}
			b.WriteByte(']')
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// validID is the rule a platform id must meet before it goes into a URL
// path: a session id (1-128 of A-Z a-z 0-9 . _ : -).
func validID(id string) bool { return transcript.ValidSessionID(id) }

// sweepByDiscovery is SweepFolder for a platform whose listing names the
// conversations but does not carry them whole: each discovered one is
// fetched. A conversation that is not there yet is skipped; one that does
// not decode does not stop the sweep (its BadTranscriptError is part of the
// returned error, errors.Join); any other failure, or an error from fn,
// stops it at once.
func sweepByDiscovery(ctx context.Context, folder string, since time.Time, d Discoverer, src Source, fn func(Result) error) error {
	var bad []error
	err := d.Discover(ctx, folder, since, func(c Discovered) error {
		res, err := src.Fetch(ctx, Request{Folder: folder, SessionID: c.SessionID, StartedAt: c.StartedAt})
		switch {
		case errors.Is(err, ErrNotYet):
			return nil
		case IsBadTranscript(err):
			bad = append(bad, err)
			return nil
		case err != nil:
			return err
		}
		return fn(res)
	})
	if err != nil {
		return err
	}
	return errors.Join(bad...)
}

// decoderOf is the named format's decoder. The format packages register
// their decoders at init, before any source exists, so a missing one is a
// programming error.
func decoderOf(name string) func([]byte) (*formats.Decoded, error) {
	f, ok := formats.Lookup(name)
	if !ok {
		panic("sources: format " + name + " is not registered")
	}
	return f.Decode
}

// inFolder names a request with its folder, so the client's errors read
// "sources: <kind>: folder A: get_chat of chat X: giving up ...".
func inFolder(folder, what string) string { return "folder " + folderName(folder) + ": " + what }
