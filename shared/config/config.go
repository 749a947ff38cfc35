// Package config reads chatcards' settings from the environment once, into
// typed values, failing fast with a message that names the bad variable, and
// builds the clients the mains wire together.
package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/stats"
)

// Getenv is os.Getenv or a map's lookup in tests.
type Getenv func(string) string

func (g Getenv) get(name string) string { return strings.TrimSpace(g(name)) }

// Duration reads a Go duration ("120s", "1h") or a plain number of seconds.
func (g Getenv) Duration(name string, def time.Duration) (time.Duration, error) {
	v := g.get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
			return 0, fmt.Errorf("%s=%q: want a duration like 120s or 1h, or a number of seconds", name, v)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d < 0 {
		return 0, fmt.Errorf("%s=%q: must not be negative", name, v)
	}
	return d, nil
}

// Int reads a whole number in [lo, hi].
func (g Getenv) Int(name string, def, lo, hi int) (int, error) {
	v := g.get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// Bool reads true/false (also 1/0, yes/no).
func (g Getenv) Bool(name string, def bool) (bool, error) {
	switch strings.ToLower(g.get(name)) {
	case "":
		return def, nil
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: want true or false", name, g.get(name))
}

// Store is where cards live: TABLE_NAME (empty: the embedded store, for
// local runs only), CARDS_BUCKET for oversize chat logs, RETENTION_DAYS.
type Store struct {
	Table     string
	Bucket    string
	Retention time.Duration
}

// StoreFromEnv reads the card-store settings.
func StoreFromEnv(g Getenv) (Store, error) {
	s := Store{Table: g.get("TABLE_NAME"), Bucket: g.get("CARDS_BUCKET")}
	days, err := g.Int("RETENTION_DAYS", 0, 0, 36500)
	if err != nil {
		return s, err
	}
	s.Retention = time.Duration(days) * 24 * time.Hour
	return s, nil
}

// Stats reads STATS_MODE, IDLE_THRESHOLD and ASYNC_IDLE_THRESHOLD.
func StatsFromEnv(g Getenv) (stats.Settings, error) {
	s := stats.DefaultSettings()
	if v := g.get("STATS_MODE"); v != "" {
		m, err := stats.ParseMode(v)
		if err != nil {
			return s, fmt.Errorf("STATS_MODE: %w", err)
		}
		s.Mode = m
	}
	var err error
	if s.IdleThreshold, err = g.Duration("IDLE_THRESHOLD", s.IdleThreshold); err != nil {
		return s, err
	}
	if s.AsyncIdleThreshold, err = g.Duration("ASYNC_IDLE_THRESHOLD", s.AsyncIdleThreshold); err != nil {
		return s, err
	}
	return s, nil
}

// Sync is the sync function's own settings.
type Sync struct {
	Stats       stats.Settings
	Concurrency int           // SYNC_CONCURRENCY, default 16
	Partial     bool          // SYNC_PARTIAL, default true
	StaleAfter  time.Duration // STALE_AFTER, default 7 days
	// Mode is SYNC_MODE: "single" (default: one invocation syncs what it can
	// before its deadline) or "fanout" (the scheduled invocation plans and
	// SYNC_QUEUE_URL's workers sync; docs/sync.md).
	Mode string
	// QueueURL is SYNC_QUEUE_URL, the work queue; required with fanout.
	QueueURL string
	// ItemSize is SYNC_ITEM_SIZE, cards per work item (default 20, 1-100).
	ItemSize int
	// Workers is SYNC_WORKERS, the workers' maximum concurrency (the event
	// source mapping's MaximumConcurrency, default 10, 2-1000): each worker
	// takes 1/Workers of every source's request-rate ceiling.
	Workers int
	// MaxReceive is SYNC_MAX_RECEIVE, the queue's maxReceiveCount (default 5).
	MaxReceive int
	// SweepOverlap is SYNC_SWEEP_OVERLAP (default 15m): how far before their
	// watermark sweeps and discovery start again.
	SweepOverlap time.Duration
}

// SyncFromEnv reads the sync settings.
func SyncFromEnv(g Getenv) (Sync, error) {
	var s Sync
	var err error
	if s.Stats, err = StatsFromEnv(g); err != nil {
		return s, err
	}
	if s.Concurrency, err = g.Int("SYNC_CONCURRENCY", 16, 1, 1024); err != nil {
		return s, err
	}
	if s.Partial, err = g.Bool("SYNC_PARTIAL", true); err != nil {
		return s, err
	}
	if s.StaleAfter, err = g.Duration("STALE_AFTER", 7*24*time.Hour); err != nil {
		return s, err
	}
	if s.StaleAfter == 0 {
		return s, fmt.Errorf("STALE_AFTER must be positive")
	}
	switch s.Mode = g.get("SYNC_MODE"); s.Mode {
	case "":
		s.Mode = "single"
	case "single", "fanout":
	default:
		return s, fmt.Errorf("SYNC_MODE=%q: want single or fanout", s.Mode)
	}
	s.QueueURL = g.get("SYNC_QUEUE_URL")
	if s.Mode == "fanout" && s.QueueURL == "" {
		return s, fmt.Errorf("SYNC_QUEUE_URL is required with SYNC_MODE=fanout")
	}
	if s.ItemSize, err = g.Int("SYNC_ITEM_SIZE", 20, 1, 100); err != nil {
		return s, err
	}
	if s.Workers, err = g.Int("SYNC_WORKERS", 10, 2, 1000); err != nil {
		return s, err
	}
	if s.MaxReceive, err = g.Int("SYNC_MAX_RECEIVE", 5, 1, 1000); err != nil {
		return s, err
	}
	if s.SweepOverlap, err = g.Duration("SYNC_SWEEP_OVERLAP", 15*time.Minute); err != nil {
		return s, err
	}
	return s, nil
}

// API is the API function's own settings.
type API struct {
	// StoreTimeout (STORE_TIMEOUT, default 5s) bounds every single call the
	// API makes to DynamoDB, S3 (reports) and Secrets Manager (tokens). It
	// must leave time to answer 503 inside API Gateway's 29 s integration
	// timeout and the function's timeout, hence the 25 s ceiling.
	StoreTimeout time.Duration
}

// DefaultStoreTimeout is STORE_TIMEOUT's default (api.DefaultStoreTimeout).
const DefaultStoreTimeout = 5 * time.Second

// maxStoreTimeout keeps a 503 answer inside API Gateway's 29 s limit.
const maxStoreTimeout = 25 * time.Second

// APIFromEnv reads the API settings.
func APIFromEnv(g Getenv) (API, error) {
	var a API
	var err error
	if a.StoreTimeout, err = g.Duration("STORE_TIMEOUT", DefaultStoreTimeout); err != nil {
		return a, err
	}
	if a.StoreTimeout <= 0 || a.StoreTimeout > maxStoreTimeout {
		return a, fmt.Errorf("STORE_TIMEOUT=%q: want more than 0 and at most %v (API Gateway gives up after 29s)", g.get("STORE_TIMEOUT"), maxStoreTimeout)
	}
	return a, nil
}
