// Command sync is the scheduled history download Lambda: it wires the card
// store, the transcript source and the syncer, then hands events to them.
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
	h, err := app.Sync(context.Background(), config.Getenv(os.Getenv), app.Deps{})
	if err != nil {
		slog.Error("sync: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	h.Metrics = os.Stdout // the run's EMF summary line
	lambda.Start(app.Logged("sync", h.HandleRaw))
}
