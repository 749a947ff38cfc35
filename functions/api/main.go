// Command api is the chat-session API Lambda behind API Gateway (HTTP API,
// payload 2.0): it wires the card store, the tokens and the report catalog.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/config"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h, err := app.API(context.Background(), config.Getenv(os.Getenv), app.Deps{})
	if err != nil {
		slog.Error("api: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(app.Logged("api", api.NewLambdaHandler(h)))
}
