package app_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every function that computes cards or writes reports reads FOLDERS (and
// its defaults) at start-up; the template must hand it to each of them, or a
// deployed stack silently computes with default zones and targets.
func TestTemplateGivesFoldersToEveryFunction(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resources := string(raw)[strings.Index(string(raw), "\nResources:"):]
	start := regexp.MustCompile(`(?m)^  ([A-Za-z]+):\n    Type: AWS::Serverless::Function`)
	ms := start.FindAllStringSubmatchIndex(resources, -1)
	if len(ms) < 5 {
		t.Fatalf("found %d functions in template.yaml, want the 5 of the bundle", len(ms))
	}
	for i, m := range ms {
		name := resources[m[2]:m[3]]
		end := len(resources)
		if i+1 < len(ms) {
			end = ms[i+1][0]
		}
		block := resources[m[0]:end]
		for _, want := range []string{"FOLDERS: !Ref Folders", "REPORT_TIMEZONE: !Ref ReportTimezone"} {
			if !strings.Contains(block, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}
