package sources_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/sources"
)

// bfFake is an Azure Blob Storage container as the blob transcript store
// leaves it: List Blobs (XML, paged by NextMarker) and Get Blob, with SAS
// authentication (a wrong signature is 403 AuthenticationFailed).
type bfFake struct {
	mu        sync.Mutex
	container string
	blobs     map[string]bfBlob
	pageSize  int
	answerAs  map[string]string // listed prefix → prefix listed instead
}

type bfBlob struct {
	body     []byte
	modified time.Time
}

const bfSAS = "sv=2021-08-06&ss=b&srt=co&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=" + token

func newBFFake(container string, pageSize int) *bfFake {
	return &bfFake{container: container, blobs: map[string]bfBlob{}, pageSize: pageSize, answerAs: map[string]string{}}
}

func bfAuth(r *http.Request) bool {
	return r.URL.Query().Get("sig") == token && r.URL.Query().Get("sv") != "" && r.Header.Get("x-ms-version") != ""
}

// ticksHex is the .NET ticks of t in lower-case hex, as the store names blobs.
func ticksHex(t time.Time) string {
	return strconv.FormatInt(621355968000000000+t.UnixNano()/100, 16)
}

// putTranscript stores a .transcript's activities as the dotnet or js
// store writes them, modified at mod; it returns the blob names sorted.
func (f *bfFake) putTranscript(t testing.TB, layout, channel string, file []byte, mod time.Time) []string {
	var acts []map[string]any
	if err := json.Unmarshal(file, &acts); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, a := range acts {
		at, err := time.Parse(time.RFC3339Nano, a["timestamp"].(string))
		if err != nil {
			t.Fatal(err)
		}
		conv := a["conversation"].(map[string]any)["id"].(string)
		id := a["id"].(string)
		var name string
		if layout == sources.LayoutJS {
			name = jsEncode(channel + "/" + conv + "/" + ticksHex(at) + "-" + id + ".json")
		} else {
			name = dotnetEscape(channel) + "/" + dotnetEscape(conv) + "/" + ticksHex(at) + "-" + dotnetEscape(id) + ".json"
		}
		f.blobs[name] = bfBlob{body: mustJSON(t, a), modified: mod}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// dotnetEscape and jsEncode are written apart from the source's own
// encoders, from the SDKs' documented functions.
func dotnetEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func jsEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type xmlBlob struct {
	Name       string `xml:"Name"`
	Properties struct {
		LastModified  string `xml:"Last-Modified"`
		ContentLength int    `xml:"Content-Length"`
		ContentType   string `xml:"Content-Type"`
	} `xml:"Properties"`
}

type xmlList struct {
	XMLName         xml.Name  `xml:"EnumerationResults"`
	ServiceEndpoint string    `xml:"ServiceEndpoint,attr"`
	ContainerName   string    `xml:"ContainerName,attr"`
	Prefix          string    `xml:"Prefix"`
	Marker          string    `xml:"Marker"`
	MaxResults      int       `xml:"MaxResults"`
	Blobs           []xmlBlob `xml:"Blobs>Blob"`
	NextMarker      string    `xml:"NextMarker"`
}

func (f *bfFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	blobNotFound := func() {
		w.Header().Set("x-ms-error-code", "BlobNotFound")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>`))
	}
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/"+f.container && q.Get("restype") == "container" && q.Get("comp") == "list":
		prefix := q.Get("prefix")
		if as, ok := f.answerAs[prefix]; ok {
			prefix = as
		}
		max, err := strconv.Atoi(q.Get("maxresults"))
		if err != nil || max < 1 || max > 5000 {
			http.Error(w, "maxresults", http.StatusBadRequest)
			return
		}
		var names []string
		for n := range f.blobs {
			if strings.HasPrefix(n, prefix) && n > q.Get("marker") {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		size := min(max, f.pageSize)
		out := xmlList{ServiceEndpoint: "http://" + r.Host + "/", ContainerName: f.container, Prefix: q.Get("prefix"), Marker: q.Get("marker"), MaxResults: max}
		for i, n := range names {
			if i == size {
				out.NextMarker = names[i-1]
				break
			}
			b := xmlBlob{Name: n}
			b.Properties.LastModified = f.blobs[n].modified.Format(http.TimeFormat)
			b.Properties.ContentLength = len(f.blobs[n].body)
			b.Properties.ContentType = "application/json"
			out.Blobs = append(out.Blobs, b)
		}
		body, _ := xml.Marshal(out)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(append([]byte(xml.Header), body...))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/"+f.container+"/"):
		b, ok := f.blobs[strings.TrimPrefix(r.URL.Path, "/"+f.container+"/")]
		if !ok {
			blobNotFound()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b.body)
	default:
		w.Header().Set("x-ms-error-code", "ContainerNotFound")
		w.WriteHeader(http.StatusNotFound)
	}
}

var bfConvID = formats.BotFrameworkSessionID("2f0b6c40-8d0e-11ef-a5b1-7d4c3e2b1a00|livechat")

func newBotFrameworkHarness(t *testing.T, layout string) (vHarness, *bfFake) {
	plat := newBFFake("transcripts", 7)
	file := readFixture(t, "botframework/vpn_handoff.transcript")
	mod := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	names := plat.putTranscript(t, layout, "emulator", file, mod)
	other := strings.ReplaceAll(string(file), "2f0b6c40-8d0e-11ef-a5b1-7d4c3e2b1a00|livechat", "other-tenant-conversation")
	plat.putTranscript(t, layout, "emulator", []byte(other), mod.Add(time.Hour))
	fake := newVFake(t, bfAuth, plat)
	fake.refused = http.StatusForbidden
	var bodies []string
	for _, n := range names {
		bodies = append(bodies, string(plat.blobs[n].body))
	}
	want := []byte("[" + strings.Join(bodies, ",") + "]")
	prefix := func(conv string) string {
		if layout == sources.LayoutJS {
			return jsEncode("emulator/" + conv + "/")
		}
		return "emulator/" + dotnetEscape(conv) + "/"
	}
	return vHarness{
		kind: "botframework", fake: fake, id: bfConvID, want: want, decode: decoder(t, "botframework"), refused: "403",
		minRequests: 1 + (len(names)+6)/7 + len(names), // the lookup walk finds it on page 1, the conversation's pages of 7, one GET a blob
		open: func(t *testing.T, tok string, clock *fakeClock) sources.Source {
			return openBF(t, fake.URL(), strings.Replace(bfSAS, token, tok, 1), layout, clock)
		},
		misroute: func() func() {
			p := prefix("2f0b6c40-8d0e-11ef-a5b1-7d4c3e2b1a00|livechat")
			plat.mu.Lock()
			plat.answerAs[p] = prefix("other-tenant-conversation")
			plat.mu.Unlock()
			return func() { plat.mu.Lock(); delete(plat.answerAs, p); plat.mu.Unlock() }
		},
	}, plat
}

func openBF(t *testing.T, u, sas, layout string, clock *fakeClock) *sources.BotFrameworkSource {
	t.Helper()
	s, err := sources.NewBotFramework(sources.BotFrameworkOptions{ContainerURL: u + "/transcripts", SAS: "?" + sas, ChannelID: "emulator",
		Layout: layout, PageSize: 100, Client: clientOpts(clock)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBotFrameworkFetcher(t *testing.T) {
	for _, layout := range []string{sources.LayoutDotNet, sources.LayoutJS} {
		t.Run(layout, func(t *testing.T) {
			h, _ := newBotFrameworkHarness(t, layout)
			vendorSuite(t, h)
		})
	}
}

// A conversation id that is a valid session id is read straight under its
// prefix, without the lookup walk.
func TestBotFrameworkPlainID(t *testing.T) {
	plat := newBFFake("transcripts", 100)
	file := strings.ReplaceAll(string(readFixture(t, "botframework/vpn_handoff.transcript")), "2f0b6c40-8d0e-11ef-a5b1-7d4c3e2b1a00|livechat", "8a1b2c3d-direct-line")
	names := plat.putTranscript(t, sources.LayoutDotNet, "emulator", []byte(file), time.Now())
	fake := newVFake(t, bfAuth, plat)
	s := openBF(t, fake.URL(), bfSAS, "", newFakeClock())
	res, err := s.Fetch(context.Background(), vReq("8a1b2c3d-direct-line"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Transcript.SessionID != "8a1b2c3d-direct-line" || fake.count() != 1+len(names) {
		t.Fatalf("session %s in %d requests, want 1 listing + %d blobs", res.Transcript.SessionID, fake.count(), len(names))
	}
}

func TestBotFrameworkDiscover(t *testing.T) {
	h, _ := newBotFrameworkHarness(t, sources.LayoutDotNet)
	s := h.open(t, token, newFakeClock()).(*sources.BotFrameworkSource)
	var got []sources.Discovered
	collect := func(d sources.Discovered) error { got = append(got, d); return nil }
	if err := s.Discover(context.Background(), "helpdesk", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SessionID != bfConvID || got[1].SessionID != "other-tenant-conversation" {
		t.Fatalf("discovered %+v", got)
	}
	if want := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC); !got[0].StartedAt.Equal(want) {
		t.Fatalf("started %v, want %v (the first activity)", got[0].StartedAt, want)
	}
	got = nil
	if err := s.Discover(context.Background(), "helpdesk", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SessionID != "other-tenant-conversation" {
		t.Fatalf("discovered since 10:00 %+v", got)
	}
	// The sweep fetches the hashed id without another lookup walk.
	var swept []string
	if err := s.SweepFolder(context.Background(), "helpdesk", time.Time{}, func(r sources.Result) error {
		swept = append(swept, r.Transcript.SessionID)
		return nil
	}); err != nil || len(swept) != 2 {
		t.Fatalf("swept %v, %v", swept, err)
	}
}

func TestBotFrameworkSettings(t *testing.T) {
	for _, c := range []struct{ entry, err string }{
		{`{"kind": "botframework", "url": "https://acct.blob.core.windows.net/transcripts", "token": "sv=1&sig=x", "channelId": "directline"}`, ""},
		{`{"kind": "botframework", "url": "https://acct.blob.core.windows.net/transcripts", "tokenSecret": "n", "channelId": "msteams", "layout": "js"}`, ""},
		{`{"kind": "botframework", "token": "t", "channelId": "c"}`, "url: is required"},
		{`{"kind": "botframework", "url": "https://acct.blob.core.windows.net", "token": "t", "channelId": "c"}`, "url:"},
		{`{"kind": "botframework", "url": "https://acct.blob.core.windows.net/c?sig=x", "token": "t", "channelId": "c"}`, "url: must not carry a query"},
		{`{"kind": "botframework", "url": "https://acct.blob.core.windows.net/c", "token": "t"}`, "channelId: is required"},
		{`{"kind": "botframework", "url": "https://acct.blob.core.windows.net/c", "token": "t", "channelId": "c", "layout": "python"}`, "layout:"},
	} {
		_, err := sources.ParseSources([]byte(`{"A": ` + c.entry + `}`))
		if c.err == "" && err != nil || c.err != "" && (err == nil || !containsAll(err.Error(), c.err, `SOURCES["A"]`)) {
			t.Errorf("%s: err = %v, want %q", c.entry, err, c.err)
		}
	}
}

func FuzzBlobList(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs><Blob><Name>emulator/x/8dd-a1.json</Name><Properties><Last-Modified>Fri, 20 Nov 2026 09:30:00 GMT</Last-Modified></Properties></Blob></Blobs><NextMarker>m</NextMarker></EnumerationResults>`))
	f.Add([]byte(`<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>`))
	f.Add([]byte(`<EnumerationResults><Blobs><Blob><Name></Name></Blob></Blobs></EnumerationResults>`))
	f.Add([]byte(`<Error><Code>AuthenticationFailed</Code></Error>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, _, err := sources.ParseBlobList(b)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Name == "" {
				t.Fatal("a blob without a name accepted")
			}
		}
	})
}

// A transport failure's error keeps the cause and drops the URL, whose
// query is the SAS token.
func TestBotFrameworkSASNeverShown(t *testing.T) {
	fake := newVFake(t, bfAuth, newBFFake("transcripts", 10))
	u := fake.URL()
	fake.srv.Close()
	s := openBF(t, u, bfSAS, "", newFakeClock())
	_, err := s.Fetch(context.Background(), vReq("8a1b2c3d-direct-line"))
	if err == nil || !strings.Contains(err.Error(), "giving up") || !strings.Contains(err.Error(), "folder helpdesk") {
		t.Fatalf("err = %v, want giving up naming the folder", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "sig=") {
		t.Fatalf("error shows the SAS token: %v", err)
	}
}
