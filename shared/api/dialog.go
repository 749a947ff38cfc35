package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/pages"
	"github.com/chatcards/chatcards/shared/share"
)

// htmlKey marks a request whose answers, errors included, are HTML pages:
// a browser asking for the dialog view, or anyone opening a share link.
const htmlKey ctxKey = 1

func wantsHTMLPage(r *http.Request) bool {
	v, _ := r.Context().Value(htmlKey).(bool)
	return v
}

// cardOrDialog is GET /v1/chat-sessions/{id}: with a share parameter it is
// a share link (no token needed, always HTML); otherwise the bearer-token
// call, answering the card as JSON or, for a browser, as the dialog page.
func (s *server) cardOrDialog(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	// ParseQuery keeps the pairs it could read beside its error, so a link
	// with a mangled query is still seen as a link (and refused as one).
	q, err := parseQuery(r.URL.RawQuery)
	if q.Has(share.Param) {
		r = r.WithContext(context.WithValue(r.Context(), htmlKey, true))
		if err != nil {
			s.problem(w, r, linkInvalid())
			return
		}
		s.sharedDialog(w, r, q)
		return
	}
	if WantsHTML(r.Header.Get("Accept")) {
		r = r.WithContext(context.WithValue(r.Context(), htmlKey, true))
	}
	s.authed(s.getSession)(w, r)
}

// sharedDialog opens the dialog page of a share link. The link must be
// whole: one token, and the folder and id of the URL exactly those it
// signs, so a link for folder A opens nothing else, whatever is edited.
func (s *server) sharedDialog(w http.ResponseWriter, r *http.Request, q url.Values) {
	if s.shareKey == nil {
		s.problem(w, r, sharingOff())
		return
	}
	toks, folders := q[share.Param], q["folder"]
	if len(toks) != 1 || len(folders) != 1 {
		s.problem(w, r, linkInvalid())
		return
	}
	link, err := share.Verify(s.shareKey, toks[0], s.now())
	switch {
	case errors.Is(err, share.ErrExpired):
		s.problem(w, r, linkExpired())
		return
	case err != nil, link.Folder != folders[0], link.SessionID != r.PathValue("id"):
		s.problem(w, r, linkInvalid())
		return
	}
	ctx, cancel := s.bounded(r.Context())
	defer cancel()
	c, err := s.store.Get(ctx, link.Folder, link.SessionID)
	if err = late(ctx, err); err != nil {
		s.storeError(w, r, "get shared", err)
		return
	}
	s.dialogPage(w, r, c, link.Expires)
}

// dialogPage writes the dialog view; sharedUntil is zero for a token call.
// The page is rendered into a buffer first so a template error is a clean
// 500, never half a page.
func (s *server) dialogPage(w http.ResponseWriter, r *http.Request, c *card.Card, sharedUntil time.Time) {
	var b bytes.Buffer
	opt := pages.DialogOptions{Location: s.folders.For(c.Folder).Location, SharedUntil: sharedUntil}
	if err := pages.Dialog(&b, c, opt); err != nil {
		s.storeError(w, r, "render dialog", err)
		return
	}
	pages.DialogHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// shareRequest is the optional body of the share call.
type shareRequest struct {
	ExpiresIn *string `json:"expiresIn"`
}

// MinShareLifetime is the shortest link the share call makes: expiries are
// whole seconds, and a link that dies before it is sent is of no use.
const MinShareLifetime = time.Minute

// shareLink is POST /v1/chat-sessions/{id}/share: a signed link to the
// card's dialog page. Token (401) and folder right (403) come first, then
// whether sharing is on (501), the id, the body, and the card's existence
// (404: no link is made to nothing).
func (s *server) shareLink(w http.ResponseWriter, r *http.Request, folder string) {
	if s.shareKey == nil {
		s.problem(w, r, sharingOff())
		return
	}
	id := r.PathValue("id")
	if fe := sessionID("id", id); fe != nil {
		s.problem(w, r, invalid(*fe))
		return
	}
	life, ok := s.shareBody(w, r)
	if !ok {
		return
	}
	base, fe := s.baseURL(r)
	if fe != nil {
		s.problem(w, r, invalid(*fe))
		return
	}
	ctx, cancel := s.bounded(r.Context())
	defer cancel()
	if _, err := s.store.Get(ctx, folder, id); late(ctx, err) != nil {
		s.storeError(w, r, "share", late(ctx, err))
		return
	}
	exp := s.now().Add(life).Truncate(time.Second).UTC()
	link, err := share.URL(base, s.shareKey, folder, id, exp)
	if err != nil {
		s.storeError(w, r, "share", err) // id and folder were checked: a bug
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the link is a credential
	writeJSON(w, http.StatusOK, map[string]string{"url": link, "expiresAt": exp.Format(time.RFC3339)})
}

// shareBody reads the optional body: none at all (no Content-Type and no
// bytes) is the default lifetime; anything else is read strictly like
// every other body.
func (s *server) shareBody(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	if r.Header.Get("Content-Type") == "" && r.ContentLength <= 0 {
		var one [1]byte
		n, _ := io.ReadFull(r.Body, one[:])
		if n == 0 {
			return share.Default, true
		}
	}
	if !s.jsonBody(w, r) {
		return 0, false
	}
	var req shareRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		s.problem(w, r, decodeProblem(err))
		return 0, false
	}
	if req.ExpiresIn == nil {
		return share.Default, true
	}
	d, err := time.ParseDuration(*req.ExpiresIn)
	switch {
	case err != nil:
		s.problem(w, r, invalid(FieldError{"expiresIn", `must be a duration such as "72h" or "30m"`}))
		return 0, false
	case d < MinShareLifetime:
		s.problem(w, r, invalid(FieldError{"expiresIn", "must be at least 1m"}))
		return 0, false
	case d > share.Max:
		s.problem(w, r, invalid(FieldError{"expiresIn", "must be at most 720h (30 days)"}))
		return 0, false
	}
	return d, true
}

// baseURL is where share links point: Config.ShareBaseURL, else the
// request's own scheme and host (API Gateway sets X-Forwarded-Proto).
func (s *server) baseURL(r *http.Request) (string, *FieldError) {
	if s.shareBase != "" {
		return s.shareBase, nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
		scheme = p
	}
	u, err := url.Parse(scheme + "://" + r.Host)
	if err != nil || r.Host == "" || u.Host != r.Host || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", &FieldError{"Host", "header must name the API's host so that the link can point back to it"}
	}
	return u.String(), nil
}
