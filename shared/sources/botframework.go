package sources

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatcards/chatcards/shared/formats"
)

// BotFramework reads Bot Framework transcripts where TranscriptLoggerMiddleware
// writes them with the Azure blob transcript store (BlobsTranscriptStore):
// one blob per activity in a container, named
// {channelId}/{conversationId}/{ticks-hex}-{activityId}.json. A fetch lists
// the conversation's blobs (List Blobs, paged by NextMarker) and downloads
// each (Get Blob), and the activities in name order are the .transcript
// array formats' botframework decoder reads. Auth is a SAS token. Discover
// walks the channel's blobs. Calls and vendor pages:
// docs/sources/botframework.md.

// KindBotFramework is the SOURCES kind of the Bot Framework source.
const KindBotFramework = "botframework"

func init() {
	Register(KindBotFramework, func() Settings { return &BotFrameworkSettings{} })
}

// Blob name layouts of the two SDKs' blob transcript stores.
const (
	// LayoutDotNet is botbuilder-dotnet's BlobsTranscriptStore: each part
	// escaped with Uri.EscapeDataString, joined by real slashes.
	LayoutDotNet = "dotnet"
	// LayoutJS is botbuilder-js' BlobsTranscriptStore: the whole name run
	// through encodeURIComponent, so its slashes are %2F.
	LayoutJS = "js"
)

// azureBlobVersion is the Blob service REST version asked for.
const azureBlobVersion = "2021-08-06"

// BotFrameworkSettings are the "botframework" kind's SOURCES keys.
type BotFrameworkSettings struct {
	// URL is the container's URL, https://<account>.blob.core.windows.net/<container>.
	URL string `json:"url"`
	// Token is a SAS token for the container (the query string, with or
	// without its "?"), read and list permissions; TokenSecret names a
	// Secrets Manager secret holding it instead.
	Token       string `json:"token"`
	TokenSecret string `json:"tokenSecret"`
	// ChannelID is the channel whose transcripts this folder reads
	// ("directline", "webchat", "msteams", ...): the store keys by it.
	ChannelID string `json:"channelId"`
	// Layout is "dotnet" (default) or "js", the SDK that wrote the blobs.
	Layout       string `json:"layout"`
	RateSettings `json:",inline"`
}

// Check validates the keys.
func (s *BotFrameworkSettings) Check() error {
	if s.URL == "" {
		return errors.New("url: is required (the container URL, https://<account>.blob.core.windows.net/<container>)")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("url: %q is not a container URL (https://<account>.blob.core.windows.net/<container>)", s.URL)
	}
	if u.RawQuery != "" || u.User != nil {
		return errors.New("url: must not carry a query or credentials; put the SAS token in token or tokenSecret")
	}
	if err := checkSecretPair("token", s.Token, "tokenSecret", s.TokenSecret); err != nil {
		return err
	}
	if s.ChannelID == "" || strings.ContainsAny(s.ChannelID, "/\x00") {
		return errors.New("channelId: is required (the channel whose transcripts the store keeps, e.g. \"directline\")")
	}
	switch s.Layout {
	case "", LayoutDotNet, LayoutJS:
	default:
		return fmt.Errorf("layout: %q is not \"dotnet\" or \"js\"", s.Layout)
	}
	return s.RateSettings.check()
}

// Open reads the SAS token secret when one is named and builds the source.
func (s *BotFrameworkSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	tok, err := resolveSecret(ctx, env, "tokenSecret", s.Token, s.TokenSecret)
	if err != nil {
		return nil, err
	}
	// Blob storage takes thousands of requests a second per account; 50
	// keeps a sync run polite.
	return NewBotFramework(BotFrameworkOptions{ContainerURL: s.URL, SAS: tok, ChannelID: s.ChannelID, Layout: s.Layout,
		Client: s.RateSettings.clientOptions(KindBotFramework, 50, env)})
}

// BotFrameworkOptions configure NewBotFramework.
type BotFrameworkOptions struct {
	ContainerURL string
	SAS          string // never logged nor put in an error
	ChannelID    string
	Layout       string // LayoutDotNet (default) or LayoutJS
	// PageSize is List Blobs' maxresults (default 5000, the service's most).
	PageSize int
	Client   ClientOptions
}

// BotFrameworkSource is the Bot Framework blob transcript store source.
type BotFrameworkSource struct {
	container string
	sas       url.Values
	channel   string
	layout    string
	pageSize  int
	c         *Client

	mu    sync.Mutex
	names map[string]string // hashed session id → conversation id
}

var (
	_ Source     = (*BotFrameworkSource)(nil)
	_ Discoverer = (*BotFrameworkSource)(nil)
	_ Sweeper    = (*BotFrameworkSource)(nil)
)

// NewBotFramework checks the options and returns the source.
func NewBotFramework(o BotFrameworkOptions) (*BotFrameworkSource, error) {
	u, err := url.Parse(o.ContainerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") == "" || u.RawQuery != "" {
		return nil, errors.New("sources.NewBotFramework: ContainerURL is not a container URL without a query")
	}
	sas, err := url.ParseQuery(strings.TrimPrefix(o.SAS, "?"))
	if err != nil || len(sas) == 0 {
		// The parse error could quote the token: not shown.
		return nil, errors.New("sources.NewBotFramework: the SAS token is not a query string (sv=…&sig=…)")
	}
	if o.ChannelID == "" {
		return nil, errors.New("sources.NewBotFramework: ChannelID is required")
	}
	if o.Layout == "" {
		o.Layout = LayoutDotNet
	}
	if o.Layout != LayoutDotNet && o.Layout != LayoutJS {
		return nil, fmt.Errorf("sources.NewBotFramework: layout %q is not dotnet or js", o.Layout)
	}
	if o.PageSize <= 0 || o.PageSize > 5000 {
		o.PageSize = 5000
	}
	if o.Client.Name == "" {
		o.Client.Name = KindBotFramework
	}
	c, err := NewClient(o.Client)
	if err != nil {
		return nil, fmt.Errorf("sources.NewBotFramework: %w", err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &BotFrameworkSource{container: u.String(), sas: sas, channel: o.ChannelID, layout: o.Layout,
		pageSize: o.PageSize, c: c, names: map[string]string{}}, nil
}

// escapeDataString is .NET's Uri.EscapeDataString: every byte but the
// RFC 3986 unreserved characters percent-encoded (upper-case hex).
func escapeDataString(s string) string { return percentEncode(s, "-_.~") }

// encodeURIComponent is JavaScript's: unreserved plus !*'() kept.
func encodeURIComponent(s string) string { return percentEncode(s, "-_.~!*'()") }

func percentEncode(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// channelPrefix is the blob name prefix of the channel's transcripts.
func (b *BotFrameworkSource) channelPrefix() string {
	if b.layout == LayoutJS {
		return encodeURIComponent(b.channel + "/")
	}
	return escapeDataString(b.channel) + "/"
}

// convPrefix is the blob name prefix of one conversation's activities.
func (b *BotFrameworkSource) convPrefix(conv string) string {
	if b.layout == LayoutJS {
		return encodeURIComponent(b.channel + "/" + conv + "/")
	}
	return escapeDataString(b.channel) + "/" + escapeDataString(conv) + "/"
}

// splitName reads a blob name of the channel back into the conversation id
// and the activity's time (from the .NET ticks in hex); ok is false for a
// blob that is not a transcript activity of the channel.
func (b *BotFrameworkSource) splitName(name string) (conv string, at time.Time, ok bool) {
	rest, found := strings.CutPrefix(name, b.channelPrefix())
	if !found {
		return "", time.Time{}, false
	}
	var convEsc, file string
	if b.layout == LayoutJS {
		convEsc, file, found = strings.Cut(rest, "%2F")
	} else {
		convEsc, file, found = strings.Cut(rest, "/")
	}
	if !found {
		return "", time.Time{}, false
	}
	conv, err := url.PathUnescape(convEsc)
	if err != nil || conv == "" {
		return "", time.Time{}, false
	}
	ticksHex, _, found := strings.Cut(file, "-")
	if !found {
		return "", time.Time{}, false
	}
	ticks, err := strconv.ParseInt(ticksHex, 16, 64)
	const unixEpochTicks = 621355968000000000
	if err != nil || ticks < unixEpochTicks {
		return conv, time.Time{}, true
	}
	return conv, time.Unix(0, (ticks-unixEpochTicks)*100).UTC(), true
}

// BlobItem is one blob of a List Blobs answer.
type BlobItem struct {
	Name         string
	LastModified time.Time
}

// blobList is the List Blobs XML answer (EnumerationResults).
type blobList struct {
	XMLName xml.Name `xml:"EnumerationResults"`
	Blobs   struct {
		Blob []struct {
			Name       string `xml:"Name"`
			Properties struct {
				LastModified string `xml:"Last-Modified"`
			} `xml:"Properties"`
		} `xml:"Blob"`
	} `xml:"Blobs"`
	NextMarker string `xml:"NextMarker"`
}

// ParseBlobList reads one List Blobs answer: the blobs and the marker of
// the next page ("" on the last).
func ParseBlobList(b []byte) (items []BlobItem, next string, err error) {
	var l blobList
	if err := xml.Unmarshal(b, &l); err != nil {
		return nil, "", fmt.Errorf("blob listing (List Blobs) answer: %w", err)
	}
	for i, e := range l.Blobs.Blob {
		if e.Name == "" {
			return nil, "", fmt.Errorf("blob listing (List Blobs) answer: Blobs.Blob[%d].Name: is empty", i)
		}
		it := BlobItem{Name: e.Name}
		if e.Properties.LastModified != "" {
			t, err := http.ParseTime(e.Properties.LastModified)
			if err != nil {
				return nil, "", fmt.Errorf("blob listing (List Blobs) answer: Blobs.Blob[%d].Properties.Last-Modified: %q is not an HTTP date", i, e.Properties.LastModified)
			}
			it.LastModified = t.UTC()
		}
		items = append(items, it)
	}
	return items, l.NextMarker, nil
}

// get sends one request to the container with the SAS token.
func (b *BotFrameworkSource) get(ctx context.Context, folder, blobPath string, q url.Values, what string) (Response, error) {
	u := b.container
	if blobPath != "" {
		u += "/" + blobPath
	}
	all := url.Values{}
	for k, v := range b.sas {
		all[k] = v
	}
	for k, v := range q {
		all[k] = v
	}
	resp, err := b.c.Do(ctx, Call{URL: u + "?" + all.Encode(), What: inFolder(folder, what),
		Header: http.Header{"x-ms-version": {azureBlobVersion}, "Accept": {"*/*"}}})
	if err != nil {
		return Response{}, err
	}
	if resp.Status == http.StatusOK && resp.TooLarge {
		return Response{}, fmt.Errorf("sources: botframework: folder %s: %s: larger than %d bytes", folderName(folder), what, MaxBodyBytes)
	}
	return resp, nil
}

// list walks List Blobs under prefix page by page.
func (b *BotFrameworkSource) list(ctx context.Context, folder, prefix string, fn func(BlobItem) error) error {
	marker := ""
	for n := 1; ; n++ {
		if n > maxVendorPages {
			return fmt.Errorf("sources: botframework: more than %d List Blobs pages", maxVendorPages)
		}
		q := url.Values{"restype": {"container"}, "comp": {"list"}, "prefix": {prefix}, "maxresults": {strconv.Itoa(b.pageSize)}}
		if marker != "" {
			q.Set("marker", marker)
		}
		what := fmt.Sprintf("List Blobs page %d", n)
		resp, err := b.get(ctx, folder, "", q, what)
		if err != nil {
			return err
		}
		if resp.Status != http.StatusOK {
			// 404 here is the container missing: a setting, not a chat
			// not there yet.
			return vendorStatusError(KindBotFramework, folder, what, resp.Status)
		}
		items, next, err := ParseBlobList(resp.Body)
		if err != nil {
			return fmt.Errorf("sources: botframework: folder %s: %s: %w", folderName(folder), what, err)
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		if next == marker {
			return fmt.Errorf("sources: botframework: %s: the marker did not move", what)
		}
		marker = next
	}
}

// blobPath is a blob name as a URL path (its own escapes kept as they are:
// the name is what the service stores, % signs included).
func blobPath(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Fetch reads one conversation's activities. The session id is the
// conversation id, or its "bf-" hash (formats.BotFrameworkSessionID) when
// the id is no valid session id: then the conversation is looked up in the
// channel's listing (once; the answer is kept).
func (b *BotFrameworkSource) Fetch(ctx context.Context, r Request) (Result, error) {
	if !validID(r.SessionID) {
		return Result{}, fmt.Errorf("sources: botframework: session id %q is not a valid session id", r.SessionID)
	}
	conv := r.SessionID
	if isBFHash(r.SessionID) {
		c, err := b.lookup(ctx, r.Folder, r.SessionID)
		if err != nil {
			return Result{}, err
		}
		conv = c
	}
	var acts [][]byte
	err := b.list(ctx, r.Folder, b.convPrefix(conv), func(it BlobItem) error {
		what := fmt.Sprintf("activity blob %d of session %s", len(acts)+1, r.SessionID)
		resp, err := b.get(ctx, r.Folder, blobPath(it.Name), nil, what)
		switch {
		case err != nil:
			return err
		case resp.Status == http.StatusNotFound:
			return nil // deleted since the listing
		case resp.Status != http.StatusOK:
			return vendorStatusError(KindBotFramework, r.Folder, what, resp.Status)
		}
		acts = append(acts, resp.Body)
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	if len(acts) == 0 {
		return Result{}, fmt.Errorf("session %s: no activity blobs: %w", r.SessionID, ErrNotYet)
	}
	doc := []byte("[")
	for i, a := range acts {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = append(doc, a...)
	}
	doc = append(doc, ']')
	return vendorResult(r.SessionID, doc, decoderOf("botframework"))
}

func isBFHash(id string) bool {
	h, ok := strings.CutPrefix(id, "bf-")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// lookup finds the conversation whose id hashes to sessionID: from what a
// walk kept, else by walking the channel's blob names.
func (b *BotFrameworkSource) lookup(ctx context.Context, folder, sessionID string) (string, error) {
	b.mu.Lock()
	conv, ok := b.names[sessionID]
	b.mu.Unlock()
	if ok {
		return conv, nil
	}
	errFound := errors.New("found")
	last := ""
	err := b.list(ctx, folder, b.channelPrefix(), func(it BlobItem) error {
		c, _, ok := b.splitName(it.Name)
		if !ok || c == last {
			return nil
		}
		last = c
		if b.remember(c) == sessionID {
			conv = c
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return conv, nil
	case err != nil:
		return "", err
	}
	return "", fmt.Errorf("session %s: no conversation of channel %s hashes to it: %w", sessionID, b.channel, ErrNotYet)
}

// remember keeps a conversation id under its session id and returns that.
func (b *BotFrameworkSource) remember(conv string) string {
	id := formats.BotFrameworkSessionID(conv)
	if id != conv {
		b.mu.Lock()
		if len(b.names) < 100000 {
			b.names[id] = conv
		}
		b.mu.Unlock()
	}
	return id
}

// Discover lists the channel's conversations with an activity blob written
// since (Last-Modified), each once, its StartedAt the time of its first
// activity (the ticks of its first blob name). Blob names sort by
// conversation, then by time, so the walk is one pass over the channel.
func (b *BotFrameworkSource) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	var cur string
	var first time.Time
	var changed bool
	flush := func() error {
		if cur == "" || !changed {
			return nil
		}
		return fn(Discovered{SessionID: b.remember(cur), StartedAt: first})
	}
	err := b.list(ctx, folder, b.channelPrefix(), func(it BlobItem) error {
		conv, at, ok := b.splitName(it.Name)
		if !ok {
			return nil
		}
		if conv != cur {
			if err := flush(); err != nil {
				return err
			}
			cur, first, changed = conv, at, false
		}
		if !it.LastModified.Before(since) {
			changed = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// SweepFolder fetches every conversation Discover lists.
func (b *BotFrameworkSource) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	return sweepByDiscovery(ctx, folder, since, b, b, fn)
}
