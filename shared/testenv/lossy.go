package testenv

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Loss is how LossyProxy loses an answer after the upstream has applied the
// request.
type Loss int

const (
	// LossStatus500 answers 500 with an empty body instead of the upstream's
	// answer.
	LossStatus500 Loss = iota
	// LossClose closes the connection without answering.
	LossClose
	// LossChecksum passes the upstream's answer garbled: the first half of
	// its body under the upstream's headers, so its X-Amz-Crc32 no longer
	// matches, as in the CI run where the SDK warned "response did not match
	// expected checksum". Only DynamoDB sends that checksum; other requests
	// get 500.
	LossChecksum
)

func (l Loss) String() string {
	switch l {
	case LossStatus500:
		return "status500"
	case LossClose:
		return "close"
	case LossChecksum:
		return "checksum"
	}
	return "loss?"
}

// Match picks a request to lose the answer of, from the request and its body.
type Match func(r *http.Request, body []byte) bool

// DynamoCall matches a DynamoDB call of operation op (e.g. "PutItem") whose
// JSON body contains every one of substrings.
func DynamoCall(op string, substrings ...string) Match {
	return func(r *http.Request, body []byte) bool {
		if r.Header.Get("X-Amz-Target") != "DynamoDB_20120810."+op {
			return false
		}
		for _, s := range substrings {
			if !bytes.Contains(body, []byte(s)) {
				return false
			}
		}
		return true
	}
}

// S3Put matches a path-style S3 PutObject whose key contains keyPart.
func S3Put(keyPart string) Match {
	return func(r *http.Request, _ []byte) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, keyPart)
	}
}

// LossyProxy is an HTTP proxy in front of an emulator that forwards every
// request and, when armed, loses the answer of the next matching one after
// the upstream applied it, so the SDK retries a write that already happened.
type LossyProxy struct {
	URL      string
	upstream string
	client   *http.Client

	mu    sync.Mutex
	match Match
	how   Loss
	lost  int
}

// NewLossyProxy starts a proxy to upstream (an emulator's base URL), closed
// when the test ends.
func NewLossyProxy(t testing.TB, upstream string) *LossyProxy {
	t.Helper()
	p := &LossyProxy{upstream: strings.TrimSuffix(upstream, "/"), client: &http.Client{
		// Bytes pass through as the upstream sent them, compressed or not.
		Transport: &http.Transport{DisableCompression: true},
	}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// LoseNext arms the proxy: the next request that m matches is applied
// upstream and its answer lost as how says. One request per arming.
func (p *LossyProxy) LoseNext(m Match, how Loss) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match, p.how = m, how
}

// Lost returns how many answers the proxy has lost so far.
func (p *LossyProxy) Lost() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func (p *LossyProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "proxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	lose, how := false, LossStatus500
	p.mu.Lock()
	if p.match != nil && p.match(r, body) {
		lose, how = true, p.how
		p.match = nil
		p.lost++
	}
	p.mu.Unlock()

	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host // the SDK signed this host
	out.ContentLength = int64(len(body))
	if isMoto(p.upstream) && r.Header.Get("X-Amz-Target") != "" {
		motoSerial.Lock() // DynamoDB on moto: one request at a time
		defer motoSerial.Unlock()
	}
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(w, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, "proxy: upstream answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	if lose {
		// The upstream has applied the request; now its answer goes missing.
		if how == LossChecksum && r.Header.Get("X-Amz-Target") == "" {
			how = LossStatus500
		}
		switch how {
		case LossClose:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			w.WriteHeader(http.StatusInternalServerError)
			return
		case LossChecksum:
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			garbled := answer[:len(answer)/2]
			w.Header().Set("Content-Length", strconv.Itoa(len(garbled)))
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(garbled)
			return
		default:
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
