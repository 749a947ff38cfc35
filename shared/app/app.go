// Package app builds each function's real handler from its settings, so the
// Lambda mains and `chatcards invoke` run the same code. Deps lets a local
// run swap the AWS-backed pieces for embedded ones.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/share"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

// Deps are ready-made parts; a nil field is built from the environment.
type Deps struct {
	Store   cardstore.Store // else DynamoDB at TABLE_NAME
	Tokens  *api.Tokens     // else API_TOKENS / API_TOKENS_SECRET
	Catalog reports.Catalog // else presigned S3 at REPORTS_BUCKET (none when unset)
	Sink    reports.Sink    // else S3 at REPORTS_BUCKET
	// Source is used for every folder (the "*" entry) unless it is a
	// *sources.Router, which binds sources to folders itself; nil: SOURCES,
	// else SOURCE and its settings.
	Source sources.Source
	Logger *slog.Logger // else slog.Default()
	// SyncState keeps the sync's watermarks and run totals: else the cards
	// table (TABLE_NAME) when the store is built from the environment, or
	// in memory next to an injected Store.
	SyncState syncer.State
	// SyncQueue takes the fan-out's work items: else SQS at SYNC_QUEUE_URL.
	SyncQueue syncer.Queue
	// Now is the clock of the API, the sync and the export (else time.Now), so a
	// test on fixed-date events injects the date instead of meeting today.
	Now func() time.Time
	// ShareKey signs share links; nil: SHARE_KEY / SHARE_KEY_SECRET (none
	// set: sharing off).
	ShareKey []byte
	// Queue and Coord are the export fan-out's task queue (else SQS at
	// EXPORT_QUEUE_URL) and part keeper (else S3 at REPORTS_BUCKET).
	Queue reports.TaskQueue
	Coord reports.Coordinator
}

// lazyAWS loads the AWS configuration only when a part needs it, so local
// runs on embedded parts never look for credentials.
type lazyAWS struct {
	cfg    aws.Config
	loaded bool
}

func (l *lazyAWS) get(ctx context.Context) (aws.Config, error) {
	if l.loaded {
		return l.cfg, nil
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return cfg, err
	}
	l.cfg, l.loaded = cfg, true
	return cfg, nil
}

func (d *Deps) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

func (d *Deps) store(ctx context.Context, env config.Getenv, aw *lazyAWS) (cardstore.Store, error) {
	if d.Store != nil {
		return d.Store, nil
	}
	s, err := config.StoreFromEnv(env)
	if err != nil {
		return nil, err
	}
	if s.Table == "" {
		return nil, errors.New("TABLE_NAME is required")
	}
	cfg, err := aw.get(ctx)
	if err != nil {
		return nil, err
	}
	return config.OpenStore(cfg, s)
}

// API builds the chat-session API handler.
func API(ctx context.Context, env config.Getenv, d Deps) (http.Handler, error) {
	var aw lazyAWS
	settings, err := config.APIFromEnv(env)
	if err != nil {
		return nil, err
	}
	store, err := d.store(ctx, env, &aw)
	if err != nil {
		return nil, err
	}
	tokens := d.Tokens
	if tokens == nil {
		tokensJSON, secret := strings.TrimSpace(env("API_TOKENS")), strings.TrimSpace(env("API_TOKENS_SECRET"))
		switch {
		case tokensJSON == "" && secret == "":
			return nil, errors.New("API_TOKENS or API_TOKENS_SECRET is required")
		case tokensJSON != "" && secret != "":
			return nil, errors.New("set API_TOKENS or API_TOKENS_SECRET, not both")
		case tokensJSON != "":
			if tokens, err = api.ParseTokens([]byte(tokensJSON)); err != nil {
				return nil, fmt.Errorf("API_TOKENS: %w", err)
			}
		default:
			cfg, err := aw.get(ctx)
			if err != nil {
				return nil, err
			}
			sctx, cancel := context.WithTimeout(ctx, settings.StoreTimeout)
			defer cancel()
			if tokens, err = api.LoadTokensSecret(sctx, secretsmanager.NewFromConfig(cfg), secret); err != nil {
				return nil, fmt.Errorf("API_TOKENS_SECRET: %w", err)
			}
		}
	}
	fc, err := folders.FromEnv(env)
	if err != nil {
		return nil, err
	}
	shareKey := d.ShareKey
	if shareKey == nil {
		if shareKey, err = loadShareKey(ctx, env, &aw, settings.StoreTimeout); err != nil {
			return nil, err
		}
	}
	if shareKey == nil {
		d.logger().WarnContext(ctx, "sharing is off: set SHARE_KEY or SHARE_KEY_SECRET to make share links")
	}
	base := strings.TrimSpace(env("SHARE_BASE_URL"))
	if base != "" {
		if _, err := share.URL(base, make([]byte, share.MinKeyBytes), "f", "i", time.Unix(0, 0)); err != nil {
			return nil, fmt.Errorf("SHARE_BASE_URL=%q: want an absolute https URL such as https://api.example.com (optionally with a path prefix), no query", base)
		}
	}
	cfg := api.Config{Store: store, Tokens: tokens, Reports: d.Catalog, Logger: d.logger(), StoreTimeout: settings.StoreTimeout,
		Folders: fc, ShareKey: shareKey, ShareBaseURL: base, Now: d.Now}
	if cfg.Reports == nil {
		if bucket := strings.TrimSpace(env("REPORTS_BUCKET")); bucket != "" {
			awsCfg, err := aw.get(ctx)
			if err != nil {
				return nil, err
			}
			client := config.S3(awsCfg)
			cfg.Reports = reports.NewS3Catalog(client, s3.NewPresignClient(client), bucket)
		}
	}
	return api.New(cfg), nil
}

// loadShareKey reads the share-link key from SHARE_KEY or, better (it does
// not show in the function's configuration), the Secrets Manager secret
// SHARE_KEY_SECRET; nil when neither is set. The key is used as its bytes;
// shorter than share.MinKeyBytes stops the start, naming the variable but
// never the key.
func loadShareKey(ctx context.Context, env config.Getenv, aw *lazyAWS, timeout time.Duration) ([]byte, error) {
	plain, secret := strings.TrimSpace(env("SHARE_KEY")), strings.TrimSpace(env("SHARE_KEY_SECRET"))
	name := "SHARE_KEY"
	switch {
	case plain == "" && secret == "":
		return nil, nil
	case plain != "" && secret != "":
		return nil, errors.New("set SHARE_KEY or SHARE_KEY_SECRET, not both")
	case secret != "":
		name = "SHARE_KEY_SECRET"
		cfg, err := aw.get(ctx)
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if plain, err = config.Secret(sctx, cfg, secret); err != nil {
			return nil, fmt.Errorf("SHARE_KEY_SECRET: %w", err)
		}
	}
	key := []byte(plain)
	if err := share.CheckKey(key); err != nil {
		return nil, fmt.Errorf("%s: the key has %d bytes, want at least %d (e.g. openssl rand -base64 48)", name, len(key), share.MinKeyBytes)
	}
	return key, nil
}

// SummaryLinks sets opt's session links as the export functions do, for a
// command that exports outside Lambda (chatcards export).
func SummaryLinks(ctx context.Context, env config.Getenv, d Deps, opt *reports.SummaryOptions) error {
	return summaryLinks(ctx, env, d, &lazyAWS{}, opt)
}

// summaryLinks makes the summary page's "longest waits" open their dialog
// views through share links, when the export has the API's share key and
// address (SHARE_KEY or SHARE_KEY_SECRET, and SHARE_BASE_URL); else the page
// links the API path, which needs a token. Links last share.Max from the
// export.
func summaryLinks(ctx context.Context, env config.Getenv, d Deps, aw *lazyAWS, opt *reports.SummaryOptions) error {
	key := d.ShareKey
	if key == nil {
		var err error
		if key, err = loadShareKey(ctx, env, aw, 10*time.Second); err != nil {
			return err
		}
	}
	base := strings.TrimSpace(env("SHARE_BASE_URL"))
	if key == nil || base == "" {
		return nil
	}
	if _, err := share.URL(base, key, "f", "i", time.Unix(0, 0)); err != nil {
		return fmt.Errorf("SHARE_BASE_URL=%q: want an absolute https URL such as https://api.example.com (optionally with a path prefix), no query", base)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	opt.SessionLink = func(folder, id string) string {
		u, err := share.URL(base, key, folder, id, now().Add(share.Max))
		if err != nil { // cannot happen: base and key were checked above
			return ""
		}
		return u
	}
	opt.LinkNote = "Each session opens its chat's dialog view (a read-only share link valid 30 days from the export)."
	return nil
}

// Sync builds the sync function's handler: with SYNC_MODE=fanout its
// scheduled invocations plan and send work items to SYNC_QUEUE_URL; with
// single (the default) they sync themselves. S3 object events are served in
// both modes.
func Sync(ctx context.Context, env config.Getenv, d Deps) (*syncer.Handler, error) {
	h, syncCfg, aw, err := syncHandler(ctx, env, d, 1)
	if err != nil {
		return nil, err
	}
	if syncCfg.Mode == string(syncer.ModeFanout) {
		h.Mode = syncer.ModeFanout
		if h.Queue = d.SyncQueue; h.Queue == nil {
			cfg, err := aw.get(ctx)
			if err != nil {
				return nil, err
			}
			h.Queue = &syncer.SQSQueue{Client: config.SQS(cfg), URL: syncCfg.QueueURL}
		}
	}
	return h, nil
}

// SyncWorker builds the fan-out worker's handler (HandleSQS). Each worker
// opens its sources with 1/SYNC_WORKERS of their request-rate ceiling, so
// SYNC_WORKERS workers together never exceed it (docs/sync.md).
func SyncWorker(ctx context.Context, env config.Getenv, d Deps) (*syncer.Handler, error) {
	syncCfg, err := config.SyncFromEnv(env)
	if err != nil {
		return nil, err
	}
	h, _, _, err := syncHandler(ctx, env, d, 1/float64(syncCfg.Workers))
	return h, err
}

func syncHandler(ctx context.Context, env config.Getenv, d Deps, rateShare float64) (*syncer.Handler, config.Sync, *lazyAWS, error) {
	aw := &lazyAWS{}
	syncCfg, err := config.SyncFromEnv(env)
	if err != nil {
		return nil, syncCfg, nil, err
	}
	store, err := d.store(ctx, env, aw)
	if err != nil {
		return nil, syncCfg, nil, err
	}
	var router *sources.Router
	switch src := d.Source.(type) {
	case nil:
		specs, err := sources.SpecsFromEnv(env)
		if err != nil {
			return nil, syncCfg, nil, err
		}
		oenv := openEnv(aw)
		oenv.RateShare = rateShare
		if router, err = sources.Open(ctx, specs, oenv); err != nil {
			return nil, syncCfg, nil, fmt.Errorf("source: %w", err)
		}
		// Which folder reads which kind, for whoever debugs a run (no
		// URLs, buckets or tokens).
		kinds := make(map[string]string, len(specs))
		for _, s := range specs {
			kinds[s.Folder] = s.Kind
		}
		d.logger().Info("sync sources", "kinds", kinds, "rateShare", rateShare)
		if k, ok := kinds[sources.DefaultFolder]; ok && !sources.FolderAware(k) {
			d.logger().Warn("every folder reads one source that cannot keep folders apart: a card made in one folder with another folder's session id would get that chat; give each folder its own SOURCES entry when there is more than one", "kind", k)
		}
	case *sources.Router:
		router = src
	default:
		router = sources.Single(src)
	}
	// FOLDERS is read once, here, as for the export: a bad entry stops the
	// function at start-up, naming the folder and key.
	fc, err := folders.FromEnv(env)
	if err != nil {
		return nil, syncCfg, nil, err
	}
	state := d.SyncState
	if state == nil {
		if d.Store != nil {
			state = syncer.NewMemState()
		} else {
			cfg, err := aw.get(ctx)
			if err != nil {
				return nil, syncCfg, nil, err
			}
			storeCfg, err := config.StoreFromEnv(env)
			if err != nil {
				return nil, syncCfg, nil, err
			}
			ds := syncer.NewDynamoState(config.DynamoDB(cfg), storeCfg.Table)
			if d.Now != nil {
				ds.Now = d.Now
			}
			state = ds
		}
	}
	h := &syncer.Handler{Syncer: syncer.New(store, router, syncer.Options{
		Settings: syncCfg.Stats, Folders: fc, Concurrency: syncCfg.Concurrency, NoPartial: !syncCfg.Partial,
		StaleAfter: syncCfg.StaleAfter, Logger: d.logger(), Now: d.Now,
		State: state, SweepOverlap: syncCfg.SweepOverlap, ItemSize: syncCfg.ItemSize,
	}), MaxReceive: syncCfg.MaxReceive, Mode: syncer.ModeSingle}
	if router.HasObjects() {
		h.Objects = router
	}
	return h, syncCfg, aw, nil
}

// openEnv gives the sources the AWS clients they ask for, loading the AWS
// configuration only then. One S3 client serves every connect source.
func openEnv(aw *lazyAWS) sources.OpenEnv {
	var s3c *s3.Client
	return sources.OpenEnv{
		S3: func(ctx context.Context) (sources.S3API, error) {
			if s3c == nil {
				cfg, err := aw.get(ctx)
				if err != nil {
					return nil, err
				}
				s3c = config.S3(cfg)
			}
			return s3c, nil
		},
		Secret: func(ctx context.Context, name string) (string, error) {
			cfg, err := aw.get(ctx)
			if err != nil {
				return "", err
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return config.Secret(ctx, cfg, name)
		},
	}
}

// Logged wraps a function's handler so every error it returns is logged
// with slog at ERROR before it goes back to the runtime: the runtime's own
// error line is not a JSON log record at ERROR and would vanish below
// ApplicationLogLevel WARN. The message is the error's (no event content is
// logged).
func Logged[E, R any](function string, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) {
		r, err := h(ctx, ev)
		if err != nil {
			slog.ErrorContext(ctx, function+" invocation failed", "function", function, "error", err.Error())
		}
		return r, err
	}
}

// exportParts builds what the export functions share: settings, store, sink.
func exportParts(ctx context.Context, env config.Getenv, d Deps, aw *lazyAWS) (reports.Config, cardstore.Store, reports.Sink, error) {
	cfg, err := reports.ConfigFromEnv(env)
	if err != nil {
		return cfg, nil, nil, err
	}
	// reports.ConfigFromEnv has read FOLDERS: a bad value (any entry, used
	// or not) has stopped the function there, naming the folder and key.
	if err := summaryLinks(ctx, env, d, aw, &cfg.Options.Summary); err != nil {
		return cfg, nil, nil, err
	}
	store, err := d.store(ctx, env, aw)
	if err != nil {
		return cfg, nil, nil, err
	}
	sink := d.Sink
	if sink == nil {
		if cfg.ReportsBucket == "" {
			return cfg, nil, nil, errors.New("REPORTS_BUCKET is required")
		}
		awsCfg, err := aw.get(ctx)
		if err != nil {
			return cfg, nil, nil, err
		}
		if sink, err = reports.NewS3Sink(config.S3(awsCfg), cfg.ReportsBucket, 0); err != nil {
			return cfg, nil, nil, fmt.Errorf("reports sink: %w", err)
		}
	}
	return cfg, store, sink, nil
}

// Export builds the export function's handler: in EXPORT_MODE=single it
// writes every report itself; in fanout it is the planner that queues one
// task per folder and report group for ExportWorker.
func Export(ctx context.Context, env config.Getenv, d Deps) (*reports.Handler, error) {
	var aw lazyAWS
	cfg, store, sink, err := exportParts(ctx, env, d, &aw)
	if err != nil {
		return nil, err
	}
	h := &reports.Handler{Store: store, Sink: sink, Config: cfg, Logger: d.logger(), Queue: d.Queue, Now: d.Now}
	if cfg.Mode == reports.ModeFanout && h.Queue == nil {
		awsCfg, err := aw.get(ctx)
		if err != nil {
			return nil, err
		}
		h.Queue = &reports.SQSQueue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.QueueURL}
	}
	return h, nil
}

// ExportWorker builds the export worker's handler: it runs the tasks the
// planner queued and writes each folder's manifest when its last task ends.
func ExportWorker(ctx context.Context, env config.Getenv, d Deps) (*reports.WorkerHandler, error) {
	var aw lazyAWS
	cfg, store, sink, err := exportParts(ctx, env, d, &aw)
	if err != nil {
		return nil, err
	}
	coord := d.Coord
	if coord == nil {
		if cfg.ReportsBucket == "" {
			return nil, errors.New("REPORTS_BUCKET is required")
		}
		awsCfg, err := aw.get(ctx)
		if err != nil {
			return nil, err
		}
		coord = &reports.S3Coordinator{Client: config.S3(awsCfg), Bucket: cfg.ReportsBucket}
	}
	return &reports.WorkerHandler{Store: store, Sink: sink, Coord: coord, Config: cfg, Logger: d.logger()}, nil
}
