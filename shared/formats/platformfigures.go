package formats

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// firstReplyPaths names, per platform, where its own first-response figure
// sits inside the card's platformFigures (the platform's field names under
// "platform": <name>) and its unit, as each docs/sources/<platform>.md names
// it. A platform that is not listed (livechat, genesys, botframework) has
// no such figure.
var firstReplyPaths = map[string]struct {
	path []string
	// msPerUnit converts the figure to milliseconds.
	msPerUnit float64
}{
	// Intercom: statistics.time_to_admin_reply, seconds ("Duration until
	// first admin reply. Subtracts out of business hours. In seconds.").
	"intercom": {[]string{"statistics", "time_to_admin_reply"}, 1000},
	// Zendesk Chat: response_time.first, seconds (the example of
	// analytics.md: {"platform": "zendesk", "response_time": {"first": 12}}).
	"zendesk": {[]string{"response_time", "first"}, 1000},
	// Rocket.Chat: the omnichannel room's metrics.response.ft, the first
	// response time in seconds (a fraction allowed).
	"rocketchat": {[]string{"metrics", "response", "ft"}, 1000},
}

// maxFirstReplyMs bounds a figure to something a chat can last (about 317
// years): larger values are garbage, not a reply time.
const maxFirstReplyMs = 1e13

// FirstReplyMs is the platform's own first-response figure in milliseconds,
// read from a card's platformFigures (the object the decoders put in
// Decoded.Figures): nil when figures is empty, names a platform without
// such a figure, lacks the field, or holds a value that is not a finite
// non-negative number (null, a string, negative). Fractions of a
// millisecond round half away from zero. It never fails: the figure is an
// optional report column, and the figures were stored by our own decoders.
func FirstReplyMs(figures json.RawMessage) *int64 {
	if len(figures) == 0 {
		return nil
	}
	var top map[string]jsontext.Value
	if err := strictjson.Unmarshal(figures, &top); err != nil {
		return nil
	}
	var platform string
	if err := strictjson.Unmarshal(top["platform"], &platform); err != nil {
		return nil
	}
	if platform == "chatwoot" {
		return chatwootFirstReplyMs(top)
	}
	p, ok := firstReplyPaths[platform]
	if !ok {
		return nil
	}
	v := top[p.path[0]]
	for _, key := range p.path[1:] {
		var obj map[string]jsontext.Value
		if v.Kind() != '{' || strictjson.Unmarshal(v, &obj) != nil {
			return nil
		}
		v = obj[key]
	}
	if v.Kind() != '0' {
		return nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 {
		return nil
	}
	ms := math.Round(f * p.msPerUnit)
	if ms > maxFirstReplyMs {
		return nil
	}
	n := int64(ms)
	return &n
}

// chatwootFirstReplyMs is Chatwoot's first reply time: the conversation's
// first_reply_created_at minus its created_at (both Unix seconds or RFC 3339,
// as the decoder reads them), as docs/sources/chatwoot.md defines it; 0 or
// absent first_reply_created_at means no reply.
func chatwootFirstReplyMs(top map[string]jsontext.Value) *int64 {
	first, err := cwTime("first_reply_created_at", top["first_reply_created_at"])
	if err != nil || first == nil || *first <= 0 {
		return nil
	}
	created, err := cwTime("created_at", top["created_at"])
	if err != nil || created == nil || *first < *created {
		return nil
	}
	ms := *first - *created
	return &ms
}
