package formats_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcards/chatcards/shared/formats"
)

func TestFirstReplyMs(t *testing.T) {
	for _, tc := range []struct {
		name, figures string
		want          int64 // -1: nil
	}{
		{"none", ``, -1},
		{"zendesk seconds", `{"platform": "zendesk", "response_time": {"first": 12, "avg": 20, "max": 31}}`, 12000},
		{"zendesk zero", `{"platform": "zendesk", "response_time": {"first": 0}}`, 0},
		{"zendesk no first", `{"platform": "zendesk", "response_time": {"avg": 20}}`, -1},
		{"zendesk no response_time", `{"platform": "zendesk", "count": {"total": 3}}`, -1},
		{"zendesk response_time not an object", `{"platform": "zendesk", "response_time": 12}`, -1},
		{"intercom", `{"platform": "intercom", "statistics": {"time_to_admin_reply": 95, "time_to_assignment": 3}}`, 95000},
		{"intercom null", `{"platform": "intercom", "statistics": {"time_to_admin_reply": null}}`, -1},
		{"intercom negative", `{"platform": "intercom", "statistics": {"time_to_admin_reply": -1}}`, -1},
		{"intercom a string", `{"platform": "intercom", "statistics": {"time_to_admin_reply": "95"}}`, -1},
		{"rocketchat fraction rounds", `{"platform": "rocketchat", "metrics": {"response": {"ft": 3.2115, "avg": 4}}}`, 3212},
		{"livechat has none", `{"platform": "livechat", "threads": [{"first_response": {"wait_time": 5}}]}`, -1},
		{"genesys has none", `{"platform": "genesys", "response_time": {"first": 12}}`, -1},
		{"botframework has none", `{"platform": "botframework"}`, -1},
		{"unknown platform", `{"platform": "acme", "response_time": {"first": 12}}`, -1},
		{"no platform", `{"response_time": {"first": 12}}`, -1},
		{"huge", `{"platform": "zendesk", "response_time": {"first": 1e300}}`, -1},
		{"not JSON", `{"platform": `, -1},
		{"duplicate key", `{"platform": "zendesk", "platform": "intercom", "response_time": {"first": 1}}`, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := formats.FirstReplyMs(json.RawMessage(tc.figures))
			switch {
			case tc.want < 0 && got != nil:
				t.Errorf("FirstReplyMs = %d, want nil", *got)
			case tc.want >= 0 && got == nil:
				t.Errorf("FirstReplyMs = nil, want %d", tc.want)
			case tc.want >= 0 && *got != tc.want:
				t.Errorf("FirstReplyMs = %d, want %d", *got, tc.want)
			}
		})
	}
}

// TestFirstReplyMsMatchesDecoder: the figure read back from a decoded
// conversation's Figures is the decoder's own FirstReplyMs.
// Every conversation under testdata/<format>/ is checked.
func TestFirstReplyMsMatchesDecoder(t *testing.T) {
	checked, withFigure := 0, 0
	for _, name := range formats.Names() {
		files, _ := filepath.Glob(filepath.Join("testdata", name, "*.json"))
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			d, _, err := formats.Decode(name, data)
			if err != nil {
				continue // a bad-input fixture
			}
			checked++
			got := formats.FirstReplyMs(d.Figures)
			if (got == nil) != (d.FirstReplyMs == nil) || got != nil && *got != *d.FirstReplyMs {
				t.Errorf("%s: FirstReplyMs(Figures) = %v, decoder says %v", path, deref(got), deref(d.FirstReplyMs))
			}
			if got != nil {
				withFigure++
			}
		}
	}
	if checked == 0 || withFigure == 0 {
		t.Fatalf("checked %d conversations, %d with a figure: the fixtures moved?", checked, withFigure)
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func FuzzFirstReplyMs(f *testing.F) {
	f.Add(`{"platform": "zendesk", "response_time": {"first": 12}}`)
	f.Add(`{"platform": "rocketchat", "metrics": {"response": {"ft": 1.5}}}`)
	f.Add(`{"platform": "intercom", "statistics": {"time_to_admin_reply": -3}}`)
	f.Fuzz(func(t *testing.T, s string) {
		if ms := formats.FirstReplyMs(json.RawMessage(s)); ms != nil && (*ms < 0 || *ms > 1e13) {
			t.Fatalf("FirstReplyMs(%q) = %d", s, *ms)
		}
	})
}
