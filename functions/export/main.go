// Command export is the report export Lambda: it wires the card store, the
// S3 sink and the report handler, then serves scheduled and on-demand runs.
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
		slog.Error("export: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(app.Logged("export", h.Handle))
}

func setup(ctx context.Context, env config.Getenv) (*reports.Handler, error) {
	return app.Export(ctx, env, app.Deps{})
}
