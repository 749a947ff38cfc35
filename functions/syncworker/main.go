// Command syncworker is the sync fan-out's worker Lambda: the SQS event
// source mapping hands it batches of work items (card keys) that the sync
// planner sent, and it syncs them with the same syncer as the single run,
// answering with the messages to retry (partial batch response).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/config"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h, err := app.SyncWorker(context.Background(), config.Getenv(os.Getenv), app.Deps{})
	if err != nil {
		slog.Error("syncworker: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	h.Metrics = os.Stdout // one EMF line per batch, and the run's summary
	lambda.Start(app.Logged("syncworker", app.SQSOnly(h.HandleSQS)))
}
