package app_test

import (
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/app"
)

// TestExportStopsOnBadFolders: a bad FOLDERS entry, used or not, stops the
// export function at start-up with the folder and key named.
func TestExportStopsOnBadFolders(t *testing.T) {
	for _, tc := range []struct{ folders, want string }{
		{`{"acme": {"timeZone": "Mars/Olympus"}}`, `FOLDERS["acme"].timeZone`},
		{`{"*": {"firstReplyTarget": "soon"}}`, `FOLDERS["*"].firstReplyTarget`},
		{`{"beta": {"timezone": "UTC"}}`, `FOLDERS["beta"]`},
	} {
		env := map[string]string{"FOLDERS": tc.folders, "REPORTS_BUCKET": "b", "TABLE_NAME": "t"}
		_, err := app.Export(t.Context(), func(k string) string { return env[k] }, app.Deps{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FOLDERS %s: error %v, want one naming %s", tc.folders, err, tc.want)
		}
	}
}
