package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/pages"
)

// problem is an RFC 9457 problem document. Type is a URN per kind of
// problem, so a client can switch on it without parsing titles.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	RequestID string       `json:"requestId,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// headline is the one-line title of the HTML page of this problem,
	// when it says more than pageHeadlines[Status].
	headline string
}

// FieldError names one invalid input: a body field (JSON path such as
// "metadata.botFlow"), "folder", "date", "id" or "body".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func invalid(errs ...FieldError) problem {
	detail := "the request is invalid"
	if len(errs) == 1 {
		detail = errs[0].Field + " " + errs[0].Message
	}
	return problem{Status: http.StatusBadRequest, Detail: detail, Errors: errs}
}

// problemTypes gives each status its type URN.
var problemTypes = map[int]string{
	http.StatusBadRequest:            "urn:chatcards:problem:invalid-request",
	http.StatusUnauthorized:          "urn:chatcards:problem:unauthenticated",
	http.StatusForbidden:             "urn:chatcards:problem:forbidden",
	http.StatusNotFound:              "urn:chatcards:problem:not-found",
	http.StatusMethodNotAllowed:      "urn:chatcards:problem:method-not-allowed",
	http.StatusRequestEntityTooLarge: "urn:chatcards:problem:too-large",
	http.StatusUnsupportedMediaType:  "urn:chatcards:problem:unsupported-media-type",
	http.StatusServiceUnavailable:    "urn:chatcards:problem:unavailable",
	http.StatusInternalServerError:   "urn:chatcards:problem:internal",
	http.StatusNotImplemented:        "urn:chatcards:problem:not-configured",
}

// Share-link problems. An altered link and an expired one are both 403 but
// told apart (type and page), so the reader knows whether asking for a new
// link will help; neither says what exactly was wrong.
func linkInvalid() problem {
	return problem{Status: http.StatusForbidden, Type: "urn:chatcards:problem:link-invalid",
		headline: "This link is not valid",
		Detail:   "The link was changed or cut short, or it is not a chatcards share link. Ask the person who sent it for a new one."}
}

func linkExpired() problem {
	return problem{Status: http.StatusForbidden, Type: "urn:chatcards:problem:link-expired",
		headline: "This link has expired",
		Detail:   "Share links work for a limited time. Ask the person who sent it for a new one."}
}

// sharingOff answers share calls and links when no share key is
// configured: 501, because it is how this deployment is set up, not a
// passing fault a retry would clear (503).
func sharingOff() problem {
	return problem{Status: http.StatusNotImplemented, headline: "Sharing is switched off",
		Detail: "sharing is not configured on this service: set SHARE_KEY or SHARE_KEY_SECRET"}
}

// pageHeadlines title the HTML page of a problem by status, for browser
// requests of the dialog view; the status itself is the same as the JSON
// answer's (statusOf and the checks above decide it).
var pageHeadlines = map[int]string{
	http.StatusBadRequest:          "This address is not valid",
	http.StatusUnauthorized:        "An API token is needed",
	http.StatusForbidden:           "Not allowed",
	http.StatusNotFound:            "No such chat",
	http.StatusMethodNotAllowed:    "Not allowed",
	http.StatusServiceUnavailable:  "Please try again shortly",
	http.StatusInternalServerError: "Something went wrong",
}

// statusOf is the one place where a domain error becomes an HTTP answer.
// Messages of coded errors are written for callers (card.Error says so);
// causes never leave the process.
func statusOf(err error) problem {
	var ce *card.Error
	msg := ""
	if errors.As(err, &ce) {
		msg = ce.Message
	}
	or := func(s, def string) string {
		if s != "" {
			return s
		}
		return def
	}
	switch card.ErrorCode(err) {
	case card.EINVALID:
		return problem{Status: http.StatusBadRequest, Detail: or(msg, "the request is invalid")}
	case card.ENOTFOUND:
		return problem{Status: http.StatusNotFound, Detail: "no such chat session in this folder"}
	case card.EUNAVAILABLE:
		return problem{Status: http.StatusServiceUnavailable, Detail: "the card store is busy or unreachable; nothing was written, retry later"}
	case card.ECONFLICT:
		// Only a concurrent writer causes this, and nothing was written: a
		// retry succeeds, which is what 503 with Retry-After tells a client.
		return problem{Status: http.StatusServiceUnavailable, Detail: "the card changed during the call; nothing was written, retry"}
	case card.ETOOLARGE:
		return problem{Status: http.StatusRequestEntityTooLarge, Detail: "the card would grow beyond what the store can keep"}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The call ran out of its deadline (the API's store timeout, or the
		// request's own) or its caller left. A store write is one atomic
		// request, so it either happened whole or not at all, and a retry
		// is safe: create and tickets are idempotent. dynamostore codes its
		// own deadline as EINTERNAL, which is why this test comes after the
		// switch and not only for uncoded errors.
		return problem{Status: http.StatusServiceUnavailable, Detail: "the card store or report storage did not answer in time; retry later"}
	}
	return problem{Status: http.StatusInternalServerError}
}

// problem writes p as application/problem+json. A 500 says only "internal
// error" and the request id: the cause is in the log.
func (s *server) problem(w http.ResponseWriter, r *http.Request, p problem) {
	if p.Type == "" {
		p.Type = problemTypes[p.Status]
	}
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusInternalServerError {
		id, _ := r.Context().Value(requestIDKey).(string)
		p = problem{Type: p.Type, Title: p.Title, Status: p.Status, Detail: "internal error", RequestID: id}
	}
	if wantsHTMLPage(r) {
		s.problemPage(w, p)
		return
	}
	b, err := json.Marshal(p)
	if err != nil { // a struct of strings and ints always marshals
		b = []byte(`{"type":"urn:chatcards:problem:internal","title":"Internal Server Error","status":500,"detail":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// jsonBody checks the content type (415) and caps the body (413 on read).
func (s *server) jsonBody(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		s.problem(w, r, problem{Status: http.StatusUnsupportedMediaType, Detail: "the body must be application/json"})
		return false
	}
	if r.ContentLength > MaxBodyBytes {
		s.problem(w, r, tooLarge())
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	return true
}

func tooLarge() problem {
	return problem{Status: http.StatusRequestEntityTooLarge, Detail: "the body is larger than 64 KiB"}
}

func parseQuery(raw string) (url.Values, error) { return url.ParseQuery(raw) }

// problemPage writes p as an HTML page for a browser: same status and
// headers (Retry-After, WWW-Authenticate, Allow are set by the caller), the
// detail as the message, and for a 500 only the request id.
func (s *server) problemPage(w http.ResponseWriter, p problem) {
	title := p.headline
	if title == "" {
		title = pageHeadlines[p.Status]
	}
	if title == "" {
		title = p.Title
	}
	msg := p.Detail
	if p.Status == http.StatusInternalServerError {
		msg = "internal error; request id " + p.RequestID
	}
	var b bytes.Buffer
	if err := pages.DialogError(&b, pages.DialogProblem{Status: p.Status, Title: title, Message: msg}); err != nil {
		b.Reset()
		b.WriteString("internal error") // the embedded templates are tested; never expected
	}
	h := w.Header()
	h.Del("Content-Length")
	pages.DialogHeaders(h)
	w.WriteHeader(p.Status)
	_, _ = w.Write(b.Bytes())
}
