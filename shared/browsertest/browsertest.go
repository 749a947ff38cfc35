// Package browsertest opens a page in a real headless Chromium (driven through
// the DevTools protocol by chromedp) and fails the test on anything a reader's
// browser would complain about: a console error, an uncaught exception, a
// Content-Security-Policy violation, or ANY request other than the page's own
// URL. It also takes full-page screenshots at desktop (1280 px) and phone
// (390 px) width, so that a person can look at the result.
//
// Our HTML pages (summary.html, the dialog view) promise to be self-contained:
// no script, no network request of any kind. This harness is how a test holds
// them to it.
//
// Like shared/testenv, the tests are always compiled: when Chromium is absent
// they skip loudly, and with CHATCARDS_REQUIRE_INTEGRATION=1 (as in CI) they
// fail instead. The browser binary is CHATCARDS_CHROMIUM, else
// /usr/bin/chromium, else chromium or chromium-browser on PATH.
//
// Screenshots go to CHATCARDS_ARTIFACTS/<test name>/ when that variable is set,
// else to a t.TempDir() whose path is printed in the test log (run with -v, or
// look at the log of a failing test).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Widths of the two screenshots, in CSS pixels.
const (
	DesktopWidth = 1280
	PhoneWidth   = 390
)

// Timeout bounds each page: start, load, screenshots. A page of ours is a few
// hundred kilobytes of HTML; a minute is generous even on a loaded CI box.
const Timeout = 60 * time.Second

// Flags are the Chromium command-line flags. Headless, no sandbox (CI runs as
// root in a container), and every background service that would otherwise
// make network requests of its own switched off, so that the requests we see
// are the page's. --hide-scrollbars makes a screenshot as wide as the layout
// (a classic scrollbar would eat 15 px of it, as on no phone).
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
	"--hide-scrollbars",
}

// Chromium returns the path of the browser, or skips (fails under
// CHATCARDS_REQUIRE_INTEGRATION=1) when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHATCARDS_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CHATCARDS_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("chromium is not installed but CHATCARDS_REQUIRE_INTEGRATION=1: apt-get install -y chromium (or set CHATCARDS_CHROMIUM)")
	}
	t.Skipf("SKIPPING browser test: chromium is not installed (apt-get install -y chromium, or set CHATCARDS_CHROMIUM)")
	return ""
}

// Page is one page opened in a fresh browser (fresh --user-data-dir, so no
// cache, cookie or earlier page can hide or cause a request).
type Page struct {
	t      testing.TB
	ctx    context.Context
	url    string
	dir    string // screenshots
	server *Server

	mu       sync.Mutex
	requests []string // every URL the page asked for, in order
	problems []string // console errors, exceptions, CSP violations, failed loads
}

// Open starts Chromium, loads url (http://127.0.0.1… or file://…) at desktop
// width and waits for the load event. The browser stops at the end of the test.
func Open(t testing.TB, url string) *Page {
	t.Helper()
	return open(t, url, nil)
}

func open(t testing.TB, pageURL string, srv *Server) *Page {
	t.Helper()
	bin := Chromium(t)
	p := &Page{t: t, url: pageURL, server: srv, dir: artefactsDir(t)}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(DesktopWidth, 800),
	}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(strings.TrimPrefix(f, "--"), true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx,
		chromedp.WithListener(p.listen),
		chromedp.WithLogf(func(string, ...any) {}),
	)
	// The first Run starts the browser and must not carry a deadline (it would
	// stop the browser); later steps each get Timeout.
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if _, err := chromedp.Run(ctx, chromedp.Func(func(context.Context, *chromedp.Target) error { return nil })); err != nil {
		t.Fatalf("browsertest: start chromium %s: %v", bin, err)
	}
	p.ctx = ctx
	if err := p.run(chromedp.EmulateViewport(DesktopWidth, 800), chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("browsertest: open %s: %v", pageURL, err)
	}
	return p
}

func (p *Page) run(steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// listen runs on chromedp's reader goroutine: it must be quick and must not
// call the browser.
func (p *Page) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			p.requests = append(p.requests, ev.Request.URL)
		}
	case *network.EventLoadingFailed:
		p.problems = append(p.problems, fmt.Sprintf("request %s failed: %s %s", ev.RequestID, ev.ErrorText, ev.BlockedReason))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.problems = append(p.problems, "console."+string(ev.Type)+": "+remoteText(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		if d := ev.ExceptionDetails; d != nil {
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			p.problems = append(p.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, text))
		}
	case *cdplog.EventEntryAdded:
		// CSP violations, blocked mixed content, failed resource loads and
		// deprecations arrive here, not as console API calls.
		if e := ev.Entry; e != nil && e.Level == cdplog.EntryLevelError {
			p.problems = append(p.problems, fmt.Sprintf("log %s error: %s (%s)", e.Source, e.Text, e.URL))
		}
	}
}

func remoteText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// Requests returns every URL the page requested so far, its own included.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Problems returns the console errors, exceptions, CSP violations and failed
// loads seen so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// ForeignRequests returns the requests other than the page's own URL (its
// fragment ignored). data: URLs are not network requests and are left out.
// When the page came from Serve, hits on the server that the DevTools log did
// not show (a favicon, say) count too.
func (p *Page) ForeignRequests() []string {
	own := stripFragment(p.url)
	var out []string
	for _, r := range p.Requests() {
		if stripFragment(r) == own || strings.HasPrefix(r, "data:") {
			continue
		}
		out = append(out, r)
	}
	if p.server != nil {
		for _, uri := range p.server.Hits() {
			if uri != p.server.page {
				out = append(out, "server hit "+uri)
			}
		}
	}
	return out
}

func stripFragment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// Eval evaluates a JavaScript expression in the page (through DevTools, not
// as page script, so the page's CSP does not apply) and returns its value.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("browsertest: eval %q: %v", expr, err)
	}
	return v
}

// Screenshot sets the viewport to width CSS pixels (phone widths emulate a
// mobile device, so the page's viewport meta tag applies), takes a full-page
// PNG and writes it to <artefacts>/<name>.png. It returns the file's path.
func (p *Page) Screenshot(name string, width int64) string {
	p.t.Helper()
	mobile := width < 800
	scale := 1.0
	if mobile {
		scale = 2 // what a phone has; and the PNG is legible when zoomed
	}
	var png []byte
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: width, Height: 800, DeviceScaleFactor: scale, Mobile: mobile,
			})
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			var err error
			png, err = chromedp.FullScreenshot(100)(ctx, t)
			return err
		}),
	)
	if err != nil {
		p.t.Fatalf("browsertest: screenshot %s at %d px: %v", name, width, err)
	}
	path := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatalf("browsertest: write %s: %v", path, err)
	}
	p.t.Logf("browsertest: screenshot %s", path)
	return path
}

// PrintWidth is the CSS width of an A4 page's printable area at 96 dpi
// (210 mm less 2 × 12 mm margins ≈ 703 px), used for the print screenshot.
const PrintWidth = 703

// PrintScreenshot renders the page with the print stylesheet (@media
// print) at PrintWidth and writes <name>.png, and the real print as
// <name>.pdf (A4, backgrounds on) beside it. It returns the PNG's path.
// The viewport is left at PrintWidth with screen media afterwards.
func (p *Page) PrintScreenshot(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	var png, pdf []byte
	var wide string
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: PrintWidth, Height: 1000, DeviceScaleFactor: 1,
			})
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			var err error
			png, err = chromedp.FullScreenshot(100)(ctx, t)
			if err != nil {
				return err
			}
			wide, err = chromedp.Evaluate[string](widestExpr)(ctx, t)
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			yes := true
			res, err := cdp.Call(ctx, t, page.PrintToPDF, page.PrintToPDFParams{
				PrintBackground: &yes, PaperWidth: 8.27, PaperHeight: 11.69, // A4
			})
			pdf = res.Data
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}),
	)
	if err != nil {
		p.t.Fatalf("browsertest: print %s: %v", name, err)
	}
	path := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatalf("browsertest: write %s: %v", path, err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, name+".pdf"), pdf, 0o644); err != nil {
		p.t.Fatalf("browsertest: write pdf: %v", err)
	}
	p.t.Logf("browsertest: print preview %s (and .pdf)", path)
	if wide != "" {
		p.t.Errorf("browsertest: printed at %d px the page is too wide: %s", PrintWidth, wide)
	}
	return path
}

// widestExpr names the outermost elements that stick out to the right of
// the viewport ("" when none): what makes a page scroll sideways.
const widestExpr = `(() => {
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w) return "";
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.right > w + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1)) {
      out.push(e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined ? "." + e.className : "") + " to " + Math.round(r.right) + " px");
    }
    if (out.length >= 5) break;
  }
  return "document " + document.documentElement.scrollWidth + " px for " + w + " px: " + out.join(", ");
})()`

// HorizontalOverflow returns how many CSS pixels the document is wider than
// the viewport at the current width (0 when nothing sticks out). A table that
// must scroll should scroll inside its own box, not push the page sideways.
func (p *Page) HorizontalOverflow() int {
	return Eval[int](p, `Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`)
}

// Check is what most tests want: it fails the test on any problem or foreign
// request, takes the desktop and phone screenshots (<name>-desktop.png,
// <name>-phone.png) and fails when the page is wider than the phone. It
// returns the two screenshot paths.
func (p *Page) Check(name string) (desktop, phone string) {
	p.t.Helper()
	desktop = p.Screenshot(name+"-desktop", DesktopWidth)
	phone = p.Screenshot(name+"-phone", PhoneWidth)
	if wide := Eval[string](p, widestExpr); wide != "" {
		p.t.Errorf("browsertest: at %d px the page scrolls sideways: %s", PhoneWidth, wide)
	}
	// Give late events (a CSP report, a lazy image) a moment to arrive.
	_ = p.run(chromedp.Sleep(200 * time.Millisecond))
	for _, pr := range p.Problems() {
		p.t.Errorf("browsertest: %s", pr)
	}
	for _, r := range p.ForeignRequests() {
		p.t.Errorf("browsertest: request other than the page itself: %s", r)
	}
	return desktop, phone
}

// Server serves a page on 127.0.0.1 and records every request it gets, so
// that a request the DevTools events might not show (a favicon, say) still
// counts.
type Server struct {
	URL  string // the page's full URL
	page string // the page's request URI (path and query)

	mu   sync.Mutex
	hits []string
}

// Serve starts an httptest server that answers GET path with body and
// contentType and 404 to anything else, recording every request.
func Serve(t testing.TB, path, contentType string, body []byte) *Server {
	t.Helper()
	return ServeHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}), path)
}

// ServeHandler starts an httptest server over h (e.g. the API's handler,
// so the page is tested with its real headers: CSP, content type) whose
// page is at uri (path and query, "/v1/chat-sessions/x?folder=f").
func ServeHandler(t testing.TB, h http.Handler, uri string) *Server {
	t.Helper()
	s := &Server{page: uri}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.RequestURI())
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.URL = hs.URL + uri
	return s
}

// Hits returns the request URIs the server got so far.
func (s *Server) Hits() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.hits...)
}

// OpenServed serves body at path and opens it; ForeignRequests then also
// counts any other hit on the server.
func OpenServed(t testing.TB, path, contentType string, body []byte) *Page {
	t.Helper()
	Chromium(t) // skip before starting a server
	s := Serve(t, path, contentType, body)
	return open(t, s.URL, s)
}

// OpenHandler serves h and opens uri on it; any other request that reaches
// h counts as foreign.
func OpenHandler(t testing.TB, h http.Handler, uri string) *Page {
	t.Helper()
	Chromium(t)
	s := ServeHandler(t, h, uri)
	return open(t, s.URL, s)
}

// OpenFile writes body to a temporary file name and opens it as file://.
func OpenFile(t testing.TB, name string, body []byte) *Page {
	t.Helper()
	Chromium(t)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "file", Path: path}
	return open(t, u.String(), nil)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func artefactsDir(t testing.TB) string {
	base := os.Getenv("CHATCARDS_ARTIFACTS")
	if base == "" {
		base = t.TempDir()
		t.Logf("browsertest: artefacts in %s (set CHATCARDS_ARTIFACTS to keep them)", base)
		return base
	}
	dir := filepath.Join(base, unsafeName.ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: artefacts dir: %v", errors.Join(err))
	}
	return dir
}
