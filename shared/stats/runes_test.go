package stats

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextSize(t *testing.T) {
	for _, s := range []string{"", "a", "päivää", "Hyvää päivää 👋 and a longer line", "مرحبا بالعالم، كيف حالك؟",
		"e\u0301e\u0301e\u0301e\u0301", strings.Repeat("日本語", 40)} {
		if got, want := textSize(s), int64(utf8.RuneCountInString(s)); got != want {
			t.Errorf("textSize(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzTextSize(f *testing.F) {
	f.Add("Hyvää päivää 👋")
	f.Add("e\u0301 and more than eight bytes")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // Normalize refuses such text before the engine sees it
		}
		if got, want := textSize(s), int64(utf8.RuneCountInString(s)); got != want {
			t.Fatalf("textSize(%q) = %d, want %d", s, got, want)
		}
	})
}
