package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// LambdaHandler is the shape lambda.Start takes for an API Gateway HTTP API
// (payload format 2.0) integration.
type LambdaHandler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// NewLambdaHandler adapts h to API Gateway payload 2.0. The event's request
// id becomes the API's request id, so a 500 body and the API Gateway access
// log name the same request. It never returns an error: a malformed event
// is answered 400, as API Gateway would turn an error into a bare 500.
func NewLambdaHandler(h http.Handler) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if id := ev.RequestContext.RequestID; id != "" {
			ctx = WithRequestID(ctx, id)
		}
		r, err := toHTTPRequest(ctx, ev)
		if err != nil {
			return badEvent(err), nil
		}
		w := &lambdaWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
		return w.response(), nil
	}
}

// adapterError is an event the adapter cannot turn into a request; like
// every 400 of the API it names what is wrong (method, path, body).
type adapterError FieldError

func (e adapterError) Error() string { return e.Field + " " + e.Message }

// badEvent answers an adapterError as the handler answers any 400.
func badEvent(err error) events.APIGatewayV2HTTPResponse {
	ae, ok := err.(adapterError)
	if !ok {
		ae = adapterError{"body", "cannot be read"}
	}
	p := invalid(FieldError(ae))
	p.Type, p.Title = problemTypes[p.Status], http.StatusText(p.Status)
	b, _ := json.Marshal(p) // a struct of strings and ints always marshals
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusBadRequest,
		Headers:    map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

func toHTTPRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, adapterError{"method", "is missing from the event"}
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	target := path
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, adapterError{"path", "or query is malformed"}
	}
	var body []byte
	if ev.Body != "" {
		if ev.IsBase64Encoded {
			body, err = base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				return nil, adapterError{"body", "is not valid base64"}
			}
		} else {
			body = []byte(ev.Body)
		}
	}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, adapterError{"method", "cannot start an HTTP request"}
	}
	r.URL = u
	r.RequestURI = target
	r.ContentLength = int64(len(body))
	for k, v := range ev.Headers {
		// API Gateway joins repeated headers with commas already.
		r.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r.Host = r.Header.Get("Host")
	if r.Host == "" {
		r.Host = ev.RequestContext.DomainName
	}
	r.URL.Host = ""
	if ip := ev.RequestContext.HTTP.SourceIP; ip != "" {
		r.RemoteAddr = ip
	}
	r.Proto = "HTTP/1.1"
	r.ProtoMajor, r.ProtoMinor = 1, 1
	if p := ev.RequestContext.HTTP.Protocol; p != "" {
		if major, minor, ok := http.ParseHTTPVersion(p); ok {
			r.Proto, r.ProtoMajor, r.ProtoMinor = p, major, minor
		}
	}
	return r, nil
}

// lambdaWriter buffers a response for the Lambda reply.
type lambdaWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *lambdaWriter) Header() http.Header { return w.header }

func (w *lambdaWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *lambdaWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *lambdaWriter) response() events.APIGatewayV2HTTPResponse {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	res := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{}}
	for k, vs := range w.header {
		if k == "Set-Cookie" {
			res.Cookies = append(res.Cookies, vs...)
			continue
		}
		res.Headers[k] = strings.Join(vs, ",")
	}
	if _, ok := res.Headers["Content-Length"]; !ok && w.body.Len() > 0 {
		res.Headers["Content-Length"] = strconv.Itoa(w.body.Len())
	}
	b := w.body.Bytes()
	if textual(w.header.Get("Content-Type")) && utf8.Valid(b) {
		res.Body = string(b)
	} else if len(b) > 0 {
		res.Body = base64.StdEncoding.EncodeToString(b)
		res.IsBase64Encoded = true
	}
	return res
}

// textual reports whether a body of this type can travel as a JSON string;
// anything else goes base64 so API Gateway returns the bytes unchanged.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" ||
		strings.HasSuffix(mt, "+json") || mt == "application/xml" || strings.HasSuffix(mt, "+xml")
}
