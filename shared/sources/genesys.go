package sources

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// Genesys reads messaging conversations from Genesys Cloud: an OAuth
// client-credentials token (cached until it expires), GET
// /api/v2/conversations/messages/{id}, then the bodies of every message it
// lists through POST …/messages/bulk (≤ 1,000 ids a call), assembled into
// {"conversation", "messages"} for formats.DecodeGenesys. Discover walks
// the analytics conversation details query. Calls and vendor pages:
// docs/sources/genesys.md.

// KindGenesys is the SOURCES kind of the Genesys Cloud source.
const KindGenesys = "genesys"

func init() {
	Register(KindGenesys, func() Settings { return &GenesysSettings{} })
}

// GenesysSettings are the "genesys" kind's SOURCES keys.
type GenesysSettings struct {
	// Region is the org's Genesys Cloud domain, e.g. "mypurecloud.com",
	// "mypurecloud.ie", "euw2.pure.cloud": the API is https://api.<region>,
	// the token endpoint https://login.<region>.
	Region string `json:"region"`
	// APIURL and LoginURL replace the two hosts the region gives (a proxy,
	// a test double).
	APIURL   string `json:"apiUrl"`
	LoginURL string `json:"loginUrl"`
	// ClientID and ClientSecret are the OAuth client (client credentials
	// grant); ClientSecretSecret names a Secrets Manager secret instead.
	ClientID           string `json:"clientId"`
	ClientSecret       string `json:"clientSecret"`
	ClientSecretSecret string `json:"clientSecretSecret"`
	// DivisionIDs, when set, are the divisions this folder owns: a
	// conversation in none of them is refused, and discovery asks only for
	// them.
	DivisionIDs  []string `json:"divisionIds"`
	RateSettings `json:",inline"`
}

// Check validates the keys.
func (s *GenesysSettings) Check() error {
	switch {
	case s.Region == "" && (s.APIURL == "" || s.LoginURL == ""):
		return errors.New("region: is required (e.g. \"mypurecloud.com\"), or both apiUrl and loginUrl")
	case s.Region != "" && !validRegion(s.Region):
		return fmt.Errorf("region: %q is not a Genesys Cloud domain such as mypurecloud.com", s.Region)
	}
	for _, k := range [][2]string{{"apiUrl", s.APIURL}, {"loginUrl", s.LoginURL}} {
		if k[1] != "" {
			if _, err := checkBaseURL(k[0], k[1]); err != nil {
				return err
			}
		}
	}
	if s.ClientID == "" {
		return errors.New("clientId: is required (the OAuth client of the client credentials grant)")
	}
	if err := checkSecretPair("clientSecret", s.ClientSecret, "clientSecretSecret", s.ClientSecretSecret); err != nil {
		return err
	}
	for _, d := range s.DivisionIDs {
		if !validID(d) {
			return fmt.Errorf("divisionIds: %q is not a division id", d)
		}
	}
	return s.RateSettings.check()
}

// validRegion: a DNS name of letters, digits, dots and hyphens, with a dot.
func validRegion(r string) bool {
	if len(r) > 253 || !strings.Contains(r, ".") || strings.HasPrefix(r, ".") || strings.HasSuffix(r, ".") {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Open reads the client secret when a secret is named and builds the source.
func (s *GenesysSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	secret, err := resolveSecret(ctx, env, "clientSecretSecret", s.ClientSecret, s.ClientSecretSecret)
	if err != nil {
		return nil, err
	}
	api, login := s.APIURL, s.LoginURL
	if api == "" {
		api = "https://api." + s.Region
	}
	if login == "" {
		login = "https://login." + s.Region
	}
	// Genesys allows 300 requests a minute per OAuth token: 5 a second.
	return NewGenesys(GenesysOptions{APIURL: api, LoginURL: login, ClientID: s.ClientID, ClientSecret: secret,
		DivisionIDs: s.DivisionIDs, Client: s.RateSettings.clientOptions(KindGenesys, 5, env)})
}

// GenesysOptions configure NewGenesys.
type GenesysOptions struct {
	APIURL, LoginURL string
	ClientID         string
	ClientSecret     string // never logged nor put in an error
	DivisionIDs      []string
	// BulkSize is how many message ids one bulk call asks for (default and
	// most 1,000).
	BulkSize int
	Client   ClientOptions
}

// GenesysSource is the Genesys Cloud source.
type GenesysSource struct {
	api, login string
	basic      string // the client's Basic credentials for the token call
	divisions  []string
	bulk       int
	c          *Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

var (
	_ Source     = (*GenesysSource)(nil)
	_ Discoverer = (*GenesysSource)(nil)
	_ Sweeper    = (*GenesysSource)(nil)
)

// NewGenesys checks the options and returns the source.
func NewGenesys(o GenesysOptions) (*GenesysSource, error) {
	api, err := checkBaseURL("apiUrl", o.APIURL)
	if err != nil {
		return nil, fmt.Errorf("sources.NewGenesys: %w", err)
	}
	login, err := checkBaseURL("loginUrl", o.LoginURL)
	if err != nil {
		return nil, fmt.Errorf("sources.NewGenesys: %w", err)
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("sources.NewGenesys: clientId and clientSecret are required")
	}
	if o.BulkSize <= 0 || o.BulkSize > 1000 {
		o.BulkSize = 1000
	}
	if o.Client.Name == "" {
		o.Client.Name = KindGenesys
	}
	c, err := NewClient(o.Client)
	if err != nil {
		return nil, fmt.Errorf("sources.NewGenesys: %w", err)
	}
	return &GenesysSource{api: api, login: login, divisions: slices.Clone(o.DivisionIDs), bulk: o.BulkSize, c: c,
		basic: "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(o.ClientID)+":"+url.QueryEscape(o.ClientSecret)))}, nil
}

// GenesysToken is the OAuth token answer.
type GenesysToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// ParseGenesysToken reads the token endpoint's answer strictly: a bearer
// token with a positive lifetime (at most a year).
func ParseGenesysToken(b []byte) (GenesysToken, error) {
	var t GenesysToken
	if err := strictjson.Unmarshal(b, &t); err != nil {
		return GenesysToken{}, fmt.Errorf("token answer: %w", err)
	}
	switch {
	case t.AccessToken == "":
		return GenesysToken{}, errors.New("token answer: access_token: is missing")
	case strings.ContainsAny(t.AccessToken, " \r\n\t"):
		return GenesysToken{}, errors.New("token answer: access_token: is not a token")
	case !strings.EqualFold(t.TokenType, "bearer"):
		return GenesysToken{}, fmt.Errorf("token answer: token_type: %q is not bearer", t.TokenType)
	case t.ExpiresIn <= 0 || t.ExpiresIn > 366*24*3600:
		return GenesysToken{}, fmt.Errorf("token answer: expires_in: %d is not a lifetime in seconds", t.ExpiresIn)
	}
	return t, nil
}

// bearer returns the cached token, or gets a new one when there is none or
// it expires within a minute.
func (g *GenesysSource) bearer(ctx context.Context, folder string, renew bool) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.c.Now()
	if !renew && g.token != "" && now.Before(g.expires.Add(-time.Minute)) {
		return g.token, nil
	}
	resp, err := g.c.Do(ctx, Call{Method: http.MethodPost, URL: g.login + "/oauth/token", What: inFolder(folder, "OAuth token"),
		Body:   []byte("grant_type=client_credentials"),
		Header: http.Header{"Authorization": {g.basic}, "Content-Type": {"application/x-www-form-urlencoded"}}, MaxBytes: 64 << 10})
	if err != nil {
		return "", err
	}
	if resp.Status == http.StatusBadRequest {
		// The token endpoint answers a refused client with 400
		// invalid_client as often as with 401.
		resp.Status = http.StatusUnauthorized
	}
	if resp.Status != http.StatusOK || resp.TooLarge {
		return "", vendorStatusError(KindGenesys, folder, "OAuth token (client credentials of clientId)", resp.Status)
	}
	t, err := ParseGenesysToken(resp.Body)
	if err != nil {
		return "", fmt.Errorf("sources: genesys: folder %s: %w", folderName(folder), err)
	}
	g.token, g.expires = t.AccessToken, now.Add(time.Duration(t.ExpiresIn)*time.Second)
	return g.token, nil
}

// call sends one API request with the token; a 401 renews the token once
// (it may have been revoked or expired early).
func (g *GenesysSource) call(ctx context.Context, folder, method, u string, body []byte, what string) (Response, error) {
	for try := 0; ; try++ {
		tok, err := g.bearer(ctx, folder, try > 0)
		if err != nil {
			return Response{}, err
		}
		h := http.Header{"Authorization": {"Bearer " + tok}}
		if body != nil {
			h.Set("Content-Type", "application/json")
		}
		resp, err := g.c.Do(ctx, Call{Method: method, URL: u, Body: body, What: inFolder(folder, what), Header: h})
		if err != nil {
			return Response{}, err
		}
		if resp.Status == http.StatusUnauthorized && try == 0 {
			continue
		}
		if resp.Status == http.StatusOK && resp.TooLarge {
			return Response{}, fmt.Errorf("sources: genesys: folder %s: %s: larger than %d bytes", folderName(folder), what, MaxBodyBytes)
		}
		return resp, nil
	}
}

// gcConvProbe is what the fetcher reads of the conversation itself.
type gcConvProbe struct {
	ID           string `json:"id"`
	Participants []struct {
		Messages []struct {
			MessageID string `json:"messageId"`
		} `json:"messages"`
	} `json:"participants"`
	Divisions []struct {
		Division *struct {
			ID string `json:"id"`
		} `json:"division"`
	} `json:"divisions"`
}

// gcBulk is the bulk call's answer.
type gcBulk struct {
	Entities []jsontext.Value `json:"entities"`
}

// Fetch gets one messaging conversation and the bodies of its messages.
func (g *GenesysSource) Fetch(ctx context.Context, r Request) (Result, error) {
	if !validID(r.SessionID) {
		return Result{}, fmt.Errorf("sources: genesys: session id %q is not a valid session id", r.SessionID)
	}
	what := "conversation " + r.SessionID
	base := g.api + "/api/v2/conversations/messages/" + url.PathEscape(r.SessionID)
	resp, err := g.call(ctx, r.Folder, http.MethodGet, base, nil, what)
	switch {
	case err != nil:
		return Result{}, err
	case resp.Status == http.StatusNotFound:
		return Result{}, fmt.Errorf("%s: %w", what, ErrNotYet)
	case resp.Status != http.StatusOK:
		return Result{}, vendorStatusError(KindGenesys, r.Folder, what, resp.Status)
	}
	conv := resp.Body
	var probe gcConvProbe
	if err := strictjson.Unmarshal(conv, &probe); err != nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("genesys: conversation answer: %w", err))
	}
	if probe.ID != r.SessionID {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("genesys: the API answered conversation %q, not the requested %q", probe.ID, r.SessionID))
	}
	if err := g.inScope(probe); err != nil {
		return Result{}, badTranscript(r.SessionID, err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, p := range probe.Participants {
		for _, m := range p.Messages {
			if m.MessageID != "" && !seen[m.MessageID] {
				seen[m.MessageID] = true
				ids = append(ids, m.MessageID)
			}
		}
	}
	messages := [][]byte{}
	for start := 0; start < len(ids); start += g.bulk {
		chunk := ids[start:min(start+g.bulk, len(ids))]
		body, err := json.Marshal(chunk)
		if err != nil {
			return Result{}, err
		}
		what := fmt.Sprintf("messages %d-%d of conversation %s", start+1, start+len(chunk), r.SessionID)
		resp, err := g.call(ctx, r.Folder, http.MethodPost, base+"/messages/bulk?useNormalizedMessage=true", body, what)
		switch {
		case err != nil:
			return Result{}, err
		case resp.Status == http.StatusNotFound:
			// Listed a moment ago: the conversation is being written.
			return Result{}, fmt.Errorf("%s: %w", what, ErrNotYet)
		case resp.Status != http.StatusOK:
			return Result{}, vendorStatusError(KindGenesys, r.Folder, what, resp.Status)
		}
		var b gcBulk
		if err := strictjson.Unmarshal(resp.Body, &b); err != nil {
			return Result{}, badTranscript(r.SessionID, fmt.Errorf("genesys: bulk answer: %w", err))
		}
		for _, e := range b.Entities {
			messages = append(messages, e)
		}
	}
	return vendorResult(r.SessionID, joinJSON("conversation", conv, "messages", messages), decoderOf("genesys"))
}

// inScope refuses a conversation of none of the folder's divisions.
func (g *GenesysSource) inScope(c gcConvProbe) error {
	if len(g.divisions) == 0 {
		return nil
	}
	for _, d := range c.Divisions {
		if d.Division != nil && slices.Contains(g.divisions, d.Division.ID) {
			return nil
		}
	}
	return fmt.Errorf("genesys: conversation %s is in none of this folder's divisions", c.ID)
}

// gcQueryPage is one answer of the analytics conversation details query.
type gcQueryPage struct {
	Conversations []struct {
		ConversationID    string   `json:"conversationId"`
		ConversationStart string   `json:"conversationStart"`
		DivisionIDs       []string `json:"divisionIds"`
	} `json:"conversations"`
	TotalHits int `json:"totalHits"`
}

// ParseGenesysQueryPage reads a details query answer strictly: the
// conversations, their divisions and the total hit count.
func ParseGenesysQueryPage(b []byte) (items []Discovered, divisions [][]string, total int, err error) {
	var p gcQueryPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, nil, 0, fmt.Errorf("details query answer: %w", err)
	}
	if p.TotalHits < 0 {
		return nil, nil, 0, fmt.Errorf("details query answer: totalHits: %d is negative", p.TotalHits)
	}
	for i, c := range p.Conversations {
		if !validID(c.ConversationID) {
			return nil, nil, 0, fmt.Errorf("details query answer: conversations[%d].conversationId: %q is not a valid session id", i, c.ConversationID)
		}
		d := Discovered{SessionID: c.ConversationID}
		if c.ConversationStart != "" {
			t, err := time.Parse(time.RFC3339Nano, c.ConversationStart)
			if err != nil {
				return nil, nil, 0, fmt.Errorf("details query answer: conversations[%d].conversationStart: %q is not an ISO-8601 time", i, c.ConversationStart)
			}
			d.StartedAt = t.UTC()
		}
		items = append(items, d)
		divisions = append(divisions, c.DivisionIDs)
	}
	return items, divisions, p.TotalHits, nil
}

// genesysWindow is the longest interval one details query covers; longer
// walks go window by window (the API refuses very long intervals).
const genesysWindow = 7 * 24 * time.Hour

const genesysPageSize = 100

// Discover lists the messaging conversations started since (analytics
// conversation details query, mediaType message, oldest first, pages of
// 100 by pageNumber, week by week up to now), within the folder's
// divisions when it has some.
func (g *GenesysSource) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	now := g.c.Now().UTC()
	seen := map[string]bool{}
	calls := 0
	start := since.UTC()
	if floor := now.Add(-5 * 366 * 24 * time.Hour); start.Before(floor) {
		// A zero since would walk weeks from year 1: five years back is
		// the floor.
		start = floor
	}
	for from := start; from.Before(now); from = from.Add(genesysWindow) {
		to := from.Add(genesysWindow)
		if to.After(now) {
			to = now
		}
		got := 0
		for page := 1; ; page++ {
			if calls++; calls > maxVendorPages {
				return fmt.Errorf("sources: genesys: discover: more than %d query pages", maxVendorPages)
			}
			q := map[string]any{
				"interval": from.Format("2006-01-02T15:04:05.000Z") + "/" + to.Format("2006-01-02T15:04:05.000Z"),
				"order":    "asc", "orderBy": "conversationStart",
				"paging": map[string]int{"pageSize": genesysPageSize, "pageNumber": page},
				"segmentFilters": []any{map[string]any{"type": "and", "predicates": []any{
					map[string]string{"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "message"}}}},
			}
			if len(g.divisions) > 0 {
				var preds []any
				for _, d := range g.divisions {
					preds = append(preds, map[string]string{"type": "dimension", "dimension": "divisionId", "operator": "matches", "value": d})
				}
				q["conversationFilters"] = []any{map[string]any{"type": "or", "predicates": preds}}
			}
			body, err := json.Marshal(q)
			if err != nil {
				return err
			}
			what := fmt.Sprintf("details query page %d", page)
			resp, err := g.call(ctx, folder, http.MethodPost, g.api+"/api/v2/analytics/conversations/details/query", body, what)
			if err != nil {
				return err
			}
			if resp.Status != http.StatusOK {
				return vendorStatusError(KindGenesys, folder, what, resp.Status)
			}
			items, divs, total, err := ParseGenesysQueryPage(resp.Body)
			if err != nil {
				return fmt.Errorf("sources: genesys: folder %s: %s: %w", folderName(folder), what, err)
			}
			for i, d := range items {
				if seen[d.SessionID] || (len(g.divisions) > 0 && !slices.ContainsFunc(divs[i], func(x string) bool { return slices.Contains(g.divisions, x) })) {
					continue
				}
				seen[d.SessionID] = true
				if err := fn(d); err != nil {
					return err
				}
			}
			// totalHits counts the window's hits: stop once all came (or
			// a page came empty, whatever the count said).
			if got += len(items); len(items) == 0 || got >= total {
				break
			}
		}
		if !to.Before(now) {
			break
		}
	}
	return nil
}

// SweepFolder fetches every conversation Discover lists.
func (g *GenesysSource) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	return sweepByDiscovery(ctx, folder, since, g, g, fn)
}
