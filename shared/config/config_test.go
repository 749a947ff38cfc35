package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/stats"
)

func env(m map[string]string) config.Getenv { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	s, err := config.SyncFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Concurrency != 16 || !s.Partial || s.StaleAfter != 7*24*time.Hour || s.Stats != stats.DefaultSettings() {
		t.Errorf("defaults = %+v", s)
	}
	st, err := config.StoreFromEnv(env(map[string]string{"TABLE_NAME": "cards", "RETENTION_DAYS": "30"}))
	if err != nil || st.Table != "cards" || st.Retention != 30*24*time.Hour {
		t.Errorf("store = %+v, %v", st, err)
	}
}

func TestValues(t *testing.T) {
	s, err := config.SyncFromEnv(env(map[string]string{"STATS_MODE": "all", "IDLE_THRESHOLD": "90", "ASYNC_IDLE_THRESHOLD": "2h",
		"SYNC_CONCURRENCY": "4", "SYNC_PARTIAL": "false", "STALE_AFTER": "48h"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats.Mode != stats.ModeAll || s.Stats.IdleThreshold != 90*time.Second || s.Stats.AsyncIdleThreshold != 2*time.Hour ||
		s.Concurrency != 4 || s.Partial || s.StaleAfter != 48*time.Hour {
		t.Errorf("settings = %+v", s)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"STATS_MODE": "most", "IDLE_THRESHOLD": "soon", "ASYNC_IDLE_THRESHOLD": "-5s", "SYNC_CONCURRENCY": "0",
		"SYNC_PARTIAL": "maybe", "STALE_AFTER": "0",
	} {
		_, err := config.SyncFromEnv(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming %s", name, value, err, name)
		}
	}
	if _, err := config.StoreFromEnv(env(map[string]string{"RETENTION_DAYS": "forever"})); err == nil || !strings.Contains(err.Error(), "RETENTION_DAYS") {
		t.Errorf("RETENTION_DAYS: %v", err)
	}
}

func TestAPISettings(t *testing.T) {
	a, err := config.APIFromEnv(env(nil))
	if err != nil || a.StoreTimeout != config.DefaultStoreTimeout {
		t.Errorf("default: %+v, %v", a, err)
	}
	a, err = config.APIFromEnv(env(map[string]string{"STORE_TIMEOUT": "2.5"}))
	if err != nil || a.StoreTimeout != 2500*time.Millisecond {
		t.Errorf("2.5: %+v, %v", a, err)
	}
	for _, bad := range []string{"0", "26s", "1m", "soon", "-1s"} {
		if _, err := config.APIFromEnv(env(map[string]string{"STORE_TIMEOUT": bad})); err == nil || !strings.Contains(err.Error(), "STORE_TIMEOUT") {
			t.Errorf("STORE_TIMEOUT=%s: %v", bad, err)
		}
	}
}

func TestSyncFanoutSettings(t *testing.T) {
	s, err := config.SyncFromEnv(env(nil))
	if err != nil || s.Mode != "single" || s.ItemSize != 20 || s.Workers != 10 || s.MaxReceive != 5 || s.SweepOverlap != 15*time.Minute {
		t.Fatalf("defaults %+v %v", s, err)
	}
	s, err = config.SyncFromEnv(env(map[string]string{"SYNC_MODE": "fanout", "SYNC_QUEUE_URL": "https://sqs.example/q", "SYNC_ITEM_SIZE": "50",
		"SYNC_WORKERS": "4", "SYNC_MAX_RECEIVE": "3", "SYNC_SWEEP_OVERLAP": "1h"}))
	if err != nil || s.Mode != "fanout" || s.ItemSize != 50 || s.Workers != 4 || s.MaxReceive != 3 || s.SweepOverlap != time.Hour {
		t.Fatalf("values %+v %v", s, err)
	}
	for k, v := range map[string]string{"SYNC_MODE": "parallel", "SYNC_ITEM_SIZE": "101", "SYNC_WORKERS": "1", "SYNC_MAX_RECEIVE": "0", "SYNC_SWEEP_OVERLAP": "-1m"} {
		if _, err := config.SyncFromEnv(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	if _, err := config.SyncFromEnv(env(map[string]string{"SYNC_MODE": "fanout"})); err == nil || !strings.Contains(err.Error(), "SYNC_QUEUE_URL") {
		t.Errorf("fanout without a queue: %v", err)
	}
}
