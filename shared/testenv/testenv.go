// Package testenv tells integration tests where the local AWS emulators are.
// Tests are always compiled; without an endpoint they skip loudly, and with
// CHATCARDS_REQUIRE_INTEGRATION=1 (as in CI) they fail instead.
package testenv

import (
	"os"
	"testing"
)

// Moto returns the moto_server endpoint (DynamoDB, S3, EventBridge).
func Moto(t testing.TB) string { return endpoint(t, "CHATCARDS_TEST_MOTO") }

// Dynalite returns the dynalite endpoint (DynamoDB only).
func Dynalite(t testing.TB) string { return endpoint(t, "CHATCARDS_TEST_DYNALITE") }

func endpoint(t testing.TB, name string) string {
	t.Helper()
	url := os.Getenv(name)
	if url != "" {
		return url
	}
	if os.Getenv("CHATCARDS_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("%s is not set but CHATCARDS_REQUIRE_INTEGRATION=1: run through scripts/with-emulators.sh (make test)", name)
	}
	t.Skipf("SKIPPING integration test: %s is not set (make test starts the emulators)", name)
	return ""
}
