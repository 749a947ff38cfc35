package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/api"
)

// BenchmarkCreate measures the handler's cost per createChatSession on the
// embedded store: auth, decoding, validation, the store call and the JSON
// answer. Logs go to io.Discard so the figure is the handler's, not a sink's.
func BenchmarkCreate(b *testing.B) {
	e := newEnv(b, func(c *api.Config) { c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil)) })
	prefix := `{"sessionId":"bench-`
	suffix := `","customer":{"person":"person/1042","name":"Jane Doe"},"channel":"web","language":"en","pages":["https://example.com/vpn-help"],"metadata":{"botFlow":"it-support"}}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/v1/chat-sessions?folder=acme", strings.NewReader(prefix+strconv.Itoa(i)+suffix))
		req.Header.Set("Authorization", "Bearer "+tokenA)
		req.Header.Set("Content-Type", "application/json")
		rr := httptest.NewRecorder()
		e.h.ServeHTTP(rr, req)
		if rr.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rr.Code, rr.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}
