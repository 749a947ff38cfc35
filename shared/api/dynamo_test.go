package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// TestOnDynamoDB runs the API's store-facing promises on the DynamoDB store
// in both emulators: one card for concurrent creates, idempotent tickets,
// 404 across folders.
func TestOnDynamoDB(t *testing.T) {
	for name, endpoint := range map[string]func(testing.TB) string{"moto": testenv.Moto, "dynalite": testenv.Dynalite} {
		t.Run(name, func(t *testing.T) {
			db := dynamodb.New(dynamodb.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(endpoint(t)),
				Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			})
			table := fmt.Sprintf("api-test-%d", time.Now().UnixNano())
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := dynamostore.CreateTable(ctx, db, table); err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, func(c *api.Config) { c.Store = dynamostore.New(db, table, dynamostore.Options{}) })

			rr := e.create(folderA, tokenA, fullCreate)
			c := cardOf(t, rr, http.StatusCreated)
			if rr.Header().Get("Location") != "/v1/chat-sessions/w-2026-11-20-0001?folder=acme" || c.CustomerName != "Jane Doe" {
				t.Fatalf("create: %v %+v", rr.Header(), c)
			}

			const n = 100
			var wg sync.WaitGroup
			codes := make([]int, n)
			versions := make([]int64, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					rr := e.create(folderA, tokenA, `{"sessionId":"same","channel":"c`+fmt.Sprint(i)+`"}`)
					codes[i] = rr.Code
					var c card.Card
					if json.Unmarshal(rr.Body.Bytes(), &c) == nil {
						versions[i] = c.Version
					}
				}(i)
			}
			wg.Wait()
			created := 0
			for i, code := range codes {
				if versions[i] != 1 {
					t.Errorf("create %d answered version %d, want the one card's 1", i, versions[i])
				}
				if code == http.StatusCreated {
					created++
				} else if code != http.StatusOK {
					t.Fatalf("create %d: status %d", i, code)
				}
			}
			if created != 1 {
				t.Fatalf("%d of %d concurrent creates answered 201", created, n)
			}
			stored := cardOf(t, e.call("GET", "/v1/chat-sessions/same?folder=acme", tokenA, "", ""), 200)
			if !strings.HasPrefix(stored.Channel, "c") {
				t.Fatalf("stored card %+v", stored)
			}

			url := "/v1/chat-sessions/same/tickets?folder=acme"
			a := cardOf(t, e.call("POST", url, tokenA, "application/json", `{"ticket":"INC-1"}`), 200)
			b := cardOf(t, e.call("POST", url, tokenA, "application/json", `{"ticket":"INC-1"}`), 200)
			if a.Version != b.Version || strings.Join(b.RelatedTickets, ",") != "INC-1" {
				t.Fatalf("attach twice: %d→%d %v", a.Version, b.Version, b.RelatedTickets)
			}
			problemOf(t, e.call("GET", "/v1/chat-sessions/same?folder=beta", tokenB, "", ""), 404)
			problemOf(t, e.call("POST", "/v1/chat-sessions/same/tickets?folder=beta", tokenB, "application/json", `{"ticket":"X"}`), 404)
		})
	}
}
