package browsertest

import (
	"net/http"
	"strings"
	"testing"
)

const cleanPage = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>clean</title><style>body{font:16px sans-serif}</style></head>
<body><h1>Clean</h1><p>No requests.</p></body></html>`

func TestCleanPagePasses(t *testing.T) {
	p := OpenServed(t, "/page.html", "text/html; charset=utf-8", []byte(cleanPage))
	desktop, phone := p.Check("clean")
	if desktop == "" || phone == "" {
		t.Fatal("no screenshot paths")
	}
	if got := p.Requests(); len(got) != 1 || !strings.HasSuffix(got[0], "/page.html") {
		t.Errorf("requests = %q, want exactly the page", got)
	}
}

func TestFilePagePasses(t *testing.T) {
	p := OpenFile(t, "clean.html", []byte(cleanPage))
	p.Check("clean-file")
}

// The harness must see what it promises to catch; otherwise the page tests
// that rely on it prove nothing.
func TestHarnessSeesViolations(t *testing.T) {
	bad := `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
</head><body>
<img src="/tracker.png" alt="">
<script>console.error("boom")</script>
<div style="width:2000px">wide</div>
</body></html>`
	p := OpenServed(t, "/bad.html", "text/html; charset=utf-8", []byte(bad))
	foreign := p.ForeignRequests()
	problems := p.Problems()
	joined := strings.Join(problems, "\n")
	// The image is blocked by the CSP (a log error), so the server may never
	// see it; either way it must show up as a problem or a foreign request.
	if !strings.Contains(joined+strings.Join(foreign, "\n"), "tracker.png") {
		t.Errorf("blocked image not reported; problems=%q foreign=%q", problems, foreign)
	}
	// The inline script is blocked by the CSP too: the violation is the error.
	if !strings.Contains(joined, "Content Security Policy") && !strings.Contains(joined, "boom") {
		t.Errorf("inline script not reported; problems=%q", problems)
	}
	p.Screenshot("bad-phone", PhoneWidth)
	if over := p.HorizontalOverflow(); over <= 0 {
		t.Errorf("overflow = %d, want > 0 for a 2000 px div at 390 px", over)
	}
	t.Logf("problems: %q foreign: %q", problems, foreign)
}

func TestHarnessSeesConsoleErrorAndRequest(t *testing.T) {
	// No CSP here, so the script runs and the image is requested.
	bad := `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<img src="/tracker.png" alt=""><script>console.error("boom"); undefinedFunction();</script></body></html>`
	p := OpenServed(t, "/bad.html", "text/html; charset=utf-8", []byte(bad))
	joined := strings.Join(p.Problems(), "\n")
	if !strings.Contains(joined, "boom") {
		t.Errorf("console.error not reported: %q", p.Problems())
	}
	if !strings.Contains(joined, "undefinedFunction") {
		t.Errorf("exception not reported: %q", p.Problems())
	}
	foreign := strings.Join(p.ForeignRequests(), "\n")
	if !strings.Contains(foreign, "tracker.png") {
		t.Errorf("image request not reported: %q", p.ForeignRequests())
	}
}

// A page opened through a handler is checked with the handler's own headers:
// here a CSP header that forbids the inline style, so the harness must see
// the violation; and a request for another path on the server is foreign.
func TestOpenHandlerSeesHeadersAndHits(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><html><head><link rel="icon" href="data:,"><style>p{color:red}</style></head><body><p>x</p><img src="/pixel.gif" alt=""></body></html>`))
	})
	p := OpenHandler(t, h, "/v1/page?folder=f")
	if !strings.Contains(strings.Join(p.Problems(), "\n"), "style") {
		t.Errorf("CSP header's style violation not seen: %q", p.Problems())
	}
	if !strings.Contains(strings.Join(p.ForeignRequests(), "\n"), "/pixel.gif") {
		t.Errorf("request for /pixel.gif not foreign: %q", p.ForeignRequests())
	}
}
