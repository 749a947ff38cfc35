package app_test

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/reports"
)

// templateEnv returns the environment variable names template.yaml sets for
// resource, with the Globals' ones: the Variables keys of its Environment
// (ten spaces in), and the Globals' (eight spaces in).
func templateEnv(t *testing.T, doc, resource string) map[string]string {
	t.Helper()
	names := map[string]string{}
	g, _, _ := strings.Cut(doc[strings.Index(doc, "\nGlobals:\n"):], "\nResources:\n")
	for _, m := range regexp.MustCompile(`(?m)^        ([A-Z][A-Z0-9_]+):(.*)$`).FindAllStringSubmatch(g, -1) {
		names[m[1]] = strings.TrimSpace(m[2])
	}
	start := strings.Index(doc, "\n  "+resource+":\n")
	if start < 0 {
		t.Fatalf("no resource %s", resource)
	}
	block := doc[start+1:]
	if end := regexp.MustCompile(`\n(  [A-Za-z]|[A-Za-z])`).FindStringIndex(block[1:]); end != nil {
		block = block[:end[0]+1]
	}
	_, vars, ok := strings.Cut(block, "\n        Variables:\n")
	if !ok {
		t.Fatalf("%s has no Environment Variables", resource)
	}
	for _, m := range regexp.MustCompile(`(?m)^          ([A-Z][A-Z0-9_]+):(.*)$`).FindAllStringSubmatch(vars, -1) {
		names[m[1]] = strings.TrimSpace(m[2])
	}
	return names
}

// recorder is a Getenv that answers from base and notes every name asked.
type recorder struct {
	mu   sync.Mutex
	base map[string]string
	read map[string]bool
}

func (r *recorder) get(k string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read[k] = true
	return r.base[k]
}

// defaultsOnly are tunables whose default is what the deployment wants
// (docs/sync.md, docs/export.md, STORE_TIMEOUT of docs/api.md); the
// planners' own settings that a worker reads with the rest of its
// configuration but never uses (the export task carries its formats); and
// PRICES, which the API reads with FOLDERS but does not show.
var defaultsOnly = map[string]bool{
	"SYNC_ITEM_SIZE": true, "SYNC_MAX_RECEIVE": true, "SYNC_SWEEP_OVERLAP": true, "XLSX_ROW_LIMIT": true, "STORE_TIMEOUT": true,
	"SYNC_MODE": true, "SYNC_QUEUE_URL": true, "EXPORT_MODE": true, "REPORT_FORMATS": true,
}

// Every variable a function's handler reads at start-up must be set by the
// template for that function: a worker that misses FOLDERS computes its
// cards without the folder's business hours and first-reply target (the
// planner has them, the worker writes the cards), and nothing says so.
func TestTemplateSetsEveryVariableTheFunctionsRead(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	syncBase := map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://127.0.0.1:1", "PLATFORM_TOKEN": "t", "SYNC_MODE": "single"}
	exportBase := map[string]string{"REPORTS_BUCKET": "b"}
	deps := func() app.Deps {
		return app.Deps{Store: memstore.New(), Logger: quietLogger(), Sink: &reports.DirSink{Root: t.TempDir()}}
	}
	for _, tc := range []struct {
		resource string
		base     map[string]string
		build    func(ctx context.Context, env func(string) string) error
	}{
		{"SyncFunction", syncBase, func(ctx context.Context, env func(string) string) error {
			_, err := app.Sync(ctx, env, deps())
			return err
		}},
		{"SyncWorkerFunction", syncBase, func(ctx context.Context, env func(string) string) error {
			_, err := app.SyncWorker(ctx, env, deps())
			return err
		}},
		{"ApiFunction", map[string]string{"API_TOKENS": `{"` + strings.Repeat("ab", 32) + `":["acme"]}`}, func(ctx context.Context, env func(string) string) error {
			_, err := app.API(ctx, env, deps())
			return err
		}},
		{"ExportWorkerFunction", exportBase, func(ctx context.Context, env func(string) string) error {
			_, err := app.ExportWorker(ctx, env, deps())
			return err
		}},
		{"ExportFunction", exportBase, func(ctx context.Context, env func(string) string) error {
			_, err := app.Export(ctx, env, deps())
			return err
		}},
	} {
		rec := &recorder{base: tc.base, read: map[string]bool{}}
		if err := tc.build(t.Context(), rec.get); err != nil {
			t.Fatalf("%s: %v", tc.resource, err)
		}
		set := templateEnv(t, doc, tc.resource)
		var missing []string
		for k := range rec.read {
			// The test's own stand-ins for the platform secret, and the
			// SDK's variables, are not the template's to set.
			if _, ok := set[k]; ok || k == "PLATFORM_TOKEN" || k == "PRICES" && tc.resource == "ApiFunction" || strings.HasPrefix(k, "AWS_") || defaultsOnly[k] {
				continue
			}
			missing = append(missing, k)
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s reads %v, which template.yaml does not set for it", tc.resource, missing)
		}
	}
}

// The sync worker writes the cards the planner would have written in single
// mode: every setting they both read must have the same value in both.
func TestTemplateSyncWorkerMatchesThePlanner(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	planner, worker := templateEnv(t, string(raw), "SyncFunction"), templateEnv(t, string(raw), "SyncWorkerFunction")
	for k, v := range planner {
		if k == "SYNC_MODE" || k == "SYNC_QUEUE_URL" {
			continue // the planner's alone
		}
		if w, ok := worker[k]; !ok || w != v {
			t.Errorf("%s: planner %q, worker %q (set: %v)", k, v, w, ok)
		}
	}
}
