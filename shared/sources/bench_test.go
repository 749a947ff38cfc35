package sources_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/transcript"
)

// BenchmarkHTTPFetch is one fetch round trip over loopback to the reference
// platform: request, typical (10-60 message) transcript, decode, hash.
func BenchmarkHTTPFetch(b *testing.B) {
	benchFetch(b, platform.GenerateOptions{N: 100, Seed: 1})
}

// BenchmarkHTTPFetchHuge fetches a 5,000-message transcript.
func BenchmarkHTTPFetchHuge(b *testing.B) {
	benchFetch(b, platform.GenerateOptions{N: 1, Seed: 1, MessagesPerSession: 5000})
}

func benchFetch(b *testing.B, opt platform.GenerateOptions) {
	plat, err := platform.NewServer(platform.ServerOptions{Token: token})
	if err != nil {
		b.Fatal(err)
	}
	ts := platform.Generate(opt)
	var bytes int64
	sizes := map[string]int{}
	for _, t := range ts {
		if err := plat.Put(t); err != nil {
			b.Fatal(err)
		}
		body, _ := transcript.Encode(t)
		sizes[t.SessionID] = len(body)
	}
	srv := httptest.NewServer(plat)
	defer srv.Close()
	h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: token, RPS: 1e9, Client: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := ts[i%len(ts)].SessionID
		if _, err := h.Fetch(context.Background(), sources.Request{SessionID: id}); err != nil {
			b.Fatal(err)
		}
		bytes += int64(sizes[id])
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/s, "fetches/s")
	b.ReportMetric(float64(bytes)/s/1e6, "MB/s")
}
