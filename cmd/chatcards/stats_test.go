package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestStatsCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "stats", "-mode", "all", "testdata/example.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var card map[string]any
	if err := json.Unmarshal([]byte(out), &card); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if card["waitBeforeFirstReplyMs"] != 10250.0 || card["messageCount"] != 6.0 || card["supportPerson"] != "person/7" {
		t.Errorf("card = wait %v, messages %v, support %v", card["waitBeforeFirstReplyMs"], card["messageCount"], card["supportPerson"])
	}
	st := card["statistics"].(map[string]any)
	if st["csg_PartiesAsMonitorCount"] != 0.0 || st["csg_ChatAsyncMode"] != "0" {
		t.Errorf("mode all: monitor count %v, async mode %v", st["csg_PartiesAsMonitorCount"], st["csg_ChatAsyncMode"])
	}
}

func TestStatsCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":1,"sessionId":"x","participants":[{"id":"c","role":"customer"}],"events":[{"at":"yesterday","type":"started"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"stats"}, 2, "usage"},
		{[]string{"stats", "-mode", "some", "testdata/example.json"}, 2, "stats mode"},
		{[]string{"stats", "-idle", "soon", "testdata/example.json"}, 2, "invalid value"},
		{[]string{"stats", "a.json", "b.json"}, 2, "usage"},
		{[]string{"stats", filepath.Join(dir, "missing.json")}, 1, "no such file"},
		{[]string{"stats", bad}, 1, "events[0].at"},
		{[]string{"nosuch"}, 2, "unknown command"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.msg)
		}
		if c.code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: bad input must give one line on stderr, got %q", c.args, errOut)
		}
	}
}
