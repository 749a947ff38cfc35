package stats_test

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// An Amazon Connect transcript and its hand-written v1 twin give one card:
// the engine never knows which source it read.
func TestConnectAndCanonicalGiveTheSameCard(t *testing.T) {
	read := func(name string) *transcript.Transcript {
		b, err := os.ReadFile("../transcript/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := transcript.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return tr
	}
	s := stats.DefaultSettings()
	s.Mode = stats.ModeAll
	connect := stats.Compute(read("connect_chat.json"), s, nil)
	canonical := stats.Compute(read("connect_chat_v1.json"), s, nil)
	if d := cmp.Diff(canonical, connect); d != "" {
		t.Fatalf("cards differ (-v1 +connect):\n%s", d)
	}
	if connect.Statistics["csg_PartiesAsBotCount"].Num != 1 || len(connect.Agents) == 0 {
		t.Errorf("the Lex BOT should count as a bot and the agent as an agent: %v", connect.Statistics)
	}
}
