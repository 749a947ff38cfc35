// Command exportworker is the export fan-out's worker Lambda: SQS delivers
// one task (a folder × report group) per record; it writes that group's
// files and, when its folder's last task is done, the manifest.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/reports"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h, err := setup(context.Background(), config.Getenv(os.Getenv))
	if err != nil {
		slog.Error("exportworker: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(app.Logged("exportworker", app.SQSOnly(h.Handle)))
}

func setup(ctx context.Context, env config.Getenv) (*reports.WorkerHandler, error) {
	return app.ExportWorker(ctx, env, app.Deps{})
}
