package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/transcript"
)

// The parts the platform API sources (zendesk, chatwoot, rocketchat) share:
// their common SOURCES keys, one GET with the shared Client that turns the
// platform's answer into our errors, and the decode step.

// APISettings are the keys every platform API kind has. Each kind embeds
// them and adds its own (Chatwoot's accountId, Rocket.Chat's userId).
type APISettings struct {
	URL          string           `json:"url"`         // the platform's base URL
	Token        string           `json:"token"`       // the API credential; never logged nor put in an error
	TokenSecret  string           `json:"tokenSecret"` // or the Secrets Manager secret holding it
	RateSettings `json:",inline"` // rps (each kind has its default) and timeout (default 10 s)
}

// check validates the shared keys; errors start with the key.
func (a *APISettings) check() error {
	if a.URL == "" {
		return errors.New("url: is required")
	}
	if _, err := baseURL(a.URL); err != nil {
		return fmt.Errorf("url: %v", err)
	}
	switch {
	case a.Token == "" && a.TokenSecret == "":
		return errors.New("token: token or tokenSecret is required")
	case a.Token != "" && a.TokenSecret != "":
		return errors.New("tokenSecret: token and tokenSecret are both set: set only one")
	}
	return a.RateSettings.check()
}

// open reads the token (from the secret when one is named) and fills the
// client options with the settings and the kind's default rate.
func (a *APISettings) open(ctx context.Context, env OpenEnv, kind string, defaultRPS float64) (token string, opt ClientOptions, err error) {
	token = a.Token
	if a.TokenSecret != "" {
		if env.Secret == nil {
			return "", opt, errors.New("tokenSecret: no Secrets Manager client here")
		}
		if token, err = env.Secret(ctx, a.TokenSecret); err != nil {
			return "", opt, fmt.Errorf("tokenSecret: %w", err)
		}
		if token == "" {
			return "", opt, fmt.Errorf("tokenSecret: secret %s is empty", a.TokenSecret)
		}
	}
	return token, a.clientOptions(kind, defaultRPS, env), nil
}

// baseURL checks an absolute http(s) URL and drops its query, fragment and
// final slash (a path prefix is kept, for platforms behind a proxy path).
func baseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL without credentials", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// apiSource is one platform API binding: a base URL, the credential
// headers and the shared client.
type apiSource struct {
	kind   string
	base   *url.URL
	header http.Header // credentials; never shown
	client *Client
}

func newAPISource(kind, rawBase string, header http.Header, opt ClientOptions) (*apiSource, error) {
	u, err := baseURL(rawBase)
	if err != nil {
		return nil, fmt.Errorf("sources: %s: BaseURL: %v", kind, err)
	}
	opt.Name = kind
	c, err := NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("sources: %s: %w", kind, err)
	}
	return &apiSource{kind: kind, base: u, header: header, client: c}, nil
}

// endpoint is base + path (segments already escaped by the caller) + query.
func (a *apiSource) endpoint(path string, q url.Values) *url.URL {
	u := *a.base
	u.Path = a.base.Path + path
	u.RawQuery = q.Encode()
	return &u
}

// sameOrigin reports whether u is on the platform's own scheme and host: a
// paging link the platform hands back is followed only there, so the
// credentials never travel to another host.
func (a *apiSource) sameOrigin(u *url.URL) bool {
	return u.Scheme == a.base.Scheme && strings.EqualFold(u.Host, a.base.Host) && u.User == nil
}

// errTooLarge is a 2xx answer over the body cap; the caller decides whether
// that is a bad transcript or a failed listing.
var errTooLarge = errors.New("the answer is larger than the body cap")

// get does one GET under the rate ceiling and retries and returns the body
// of a 200. 404 is ErrNotYet; 401 and 403 say the credential was refused,
// naming the folder and the kind (never the token); any other status fails
// once. what names the request ("chat 123"); folder may be "".
func (a *apiSource) get(ctx context.Context, folder, what string, u *url.URL) ([]byte, error) {
	label := what
	if folder != "" {
		label = fmt.Sprintf("folder %s: %s", folder, what)
	}
	resp, err := a.client.Do(ctx, Call{URL: u.String(), Header: a.header, What: label})
	if err != nil {
		return nil, err
	}
	switch {
	case resp.Status == http.StatusOK:
	case resp.Status == http.StatusNotFound:
		return nil, fmt.Errorf("%s %s: %w", a.kind, label, ErrNotYet)
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		return nil, fmt.Errorf("sources: %s: %s: status %d %s: the platform refused the credentials of this folder's %s source (check its token or tokenSecret and the user's permissions)",
			a.kind, label, resp.Status, http.StatusText(resp.Status), a.kind)
	default:
		return nil, &statusError{kind: a.kind, label: label, status: resp.Status}
	}
	if resp.TooLarge {
		return nil, fmt.Errorf("sources: %s: %s: %w (%d bytes)", a.kind, label, errTooLarge, MaxBodyBytes)
	}
	return resp.Body, nil
}

// statusError is a final status the source does not expect; a kind may
// read it (Rocket.Chat answers an unknown room with 400).
type statusError struct {
	kind, label string
	status      int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("sources: %s: %s: status %d %s", e.kind, e.label, e.status, http.StatusText(e.status))
}

// decodeAs decodes an assembled platform file with its format and checks
// it is the session asked for (want "" skips that check: sweeps).
func decodeAs(format, want string, doc []byte) (Result, error) {
	return vendorResult(want, doc, decoderOf(format))
}

// pathID checks a session id before it goes into a URL path: a valid
// sessionId has only URL-safe characters, but "." and ".." would walk the
// path.
func pathID(kind, id string) error {
	if !transcript.ValidSessionID(id) || strings.Trim(id, ".") == "" {
		return fmt.Errorf("sources: %s: session id %q is not a valid session id", kind, id)
	}
	return nil
}

// compact returns v without insignificant whitespace, so the hash of a
// document does not depend on how the platform happened to indent it.
func compact(v []byte) ([]byte, error) {
	c := append(jsontext.Value(nil), v...)
	if err := c.Compact(); err != nil {
		return nil, err
	}
	return c, nil
}

// maxListPages stops a listing whose cursor never ends from looping a sync
// run until its deadline; maxMessagePages does the same for one chat.
const (
	maxListPages    = 10000
	maxMessagePages = 1000
)
