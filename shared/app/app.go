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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

// Deps are ready-made parts; a nil field is built from the environment.
type Deps struct {
	Store   cardstore.Store // else DynamoDB at TABLE_NAME
	Tokens  *api.Tokens     // else API_TOKENS / API_TOKENS_SECRET
	Catalog reports.Catalog // else presigned S3 at REPORTS_BUCKET (none when unset)
	Sink    reports.Sink    // else S3 at REPORTS_BUCKET
	// Queue and Coord are the export fan-out's task queue (else SQS at
	// EXPORT_QUEUE_URL) and part keeper (else S3 at REPORTS_BUCKET).
	Queue  reports.TaskQueue
	Coord  reports.Coordinator
	Source sources.Source // else SOURCE and its settings
	Logger *slog.Logger   // else slog.Default()
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
			if tokens, err = api.LoadTokensSecret(ctx, secretsmanager.NewFromConfig(cfg), secret); err != nil {
				return nil, fmt.Errorf("API_TOKENS_SECRET: %w", err)
			}
		}
	}
	cfg := api.Config{Store: store, Tokens: tokens, Reports: d.Catalog, Logger: d.logger()}
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

// Sync builds the sync function's handler.
func Sync(ctx context.Context, env config.Getenv, d Deps) (*syncer.Handler, error) {
	var aw lazyAWS
	syncCfg, err := config.SyncFromEnv(env)
	if err != nil {
		return nil, err
	}
	store, err := d.store(ctx, env, &aw)
	if err != nil {
		return nil, err
	}
	src := d.Source
	if src == nil {
		srcCfg, err := sources.ConfigFromEnv(env)
		if err != nil {
			return nil, err
		}
		var awsCfg aws.Config
		if srcCfg.Kind == sources.KindConnect || srcCfg.TokenSecret != "" {
			if awsCfg, err = aw.get(ctx); err != nil {
				return nil, err
			}
		}
		if src, err = config.OpenSource(ctx, awsCfg, srcCfg, nil); err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
	}
	h := &syncer.Handler{Syncer: syncer.New(store, src, syncer.Options{
		Settings: syncCfg.Stats, Concurrency: syncCfg.Concurrency, NoPartial: !syncCfg.Partial,
		StaleAfter: syncCfg.StaleAfter, Logger: d.logger(),
	})}
	if kf, ok := src.(syncer.KeyFetcher); ok {
		h.Keys = kf
	}
	return h, nil
}

// exportParts builds what the export functions share: settings, store, sink.
func exportParts(ctx context.Context, env config.Getenv, d Deps, aw *lazyAWS) (reports.Config, cardstore.Store, reports.Sink, error) {
	cfg, err := reports.ConfigFromEnv(env)
	if err != nil {
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
	h := &reports.Handler{Store: store, Sink: sink, Config: cfg, Logger: d.logger(), Queue: d.Queue}
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
