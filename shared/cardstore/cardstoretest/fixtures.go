package cardstoretest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/stats"
)

// T0 is the start of the fixtures' day.
var T0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// Stamp formats t as the cards do: RFC 3339, UTC, milliseconds.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func ptr(n int64) *int64 { return &n }

// FullCard returns a closed card with every field set, including both kinds
// of statistics value and every optional pointer.
func FullCard(folder, sessionID string) *card.Card {
	c := card.New(folder, sessionID, Stamp(T0))
	c.Active = false
	c.Status = "closed"
	c.ChatLog = []stats.LogEntry{
		{At: Stamp(T0.Add(time.Second)), Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "Hello, my VPN is down — ça ne marche pas 😟"},
		{At: Stamp(T0.Add(2 * time.Second)), Participant: "bot", Role: "bot", Text: "Let me find an agent."},
		{At: Stamp(T0.Add(3 * time.Second)), Participant: "a1", Role: "agent", Name: "Ann", Text: "Hi Jane, I'm Ann. 你好"},
		{At: Stamp(T0.Add(4 * time.Second)), Participant: "c1", Role: "customer", Name: "Jane Doe", File: &stats.File{Name: "screen.png", ContentType: "image/png", Size: 123456}},
	}
	c.MessageCount = len(c.ChatLog)
	c.Customer = "person/1042"
	c.Members = []string{"person/1042", "person/7"}
	c.SupportPerson = "person/7"
	c.StartTime = Stamp(T0)
	c.EndTime = Stamp(T0.Add(10 * time.Minute))
	c.WaitBeforeFirstReplyMs = ptr(0)
	c.AgentGreetingMs = ptr(1500)
	c.RelatedTickets = []string{"INC-1", "INC-2"}
	c.NoOperatorResponse = true
	c.Abandoned = true
	c.Markers = []string{"vip", "vpn"}
	c.Pages = []string{"https://example.com/vpn-help?x=1&y=ü"}
	c.Statistics = stats.Statistics{
		"csg_ChatAsyncMode":              stats.Str("0"),
		"csg_MediaType":                  stats.Str("chat"),
		"csg_TenantId":                   stats.Str(""),
		"csg_SessionTotalTime":           stats.Num(600),
		"cse_AgentReplyTotalCount":       stats.Num(0),
		"csg_MessagesFromCustomersCount": stats.Num(-1),
		"csg_Big":                        stats.Num(1<<62 + 12345),
	}
	c.Agents = []stats.Agent{{Participant: "a1", Person: "person/7", Name: "Ann", Messages: 1, ReplyCount: 1, ReplyTotalMs: 2000, ReplyMaxMs: 2000, ReplyAvgMs: ptr(2000), PresenceMs: 600000}}
	c.ResponseTimes = stats.ResponseTimes{
		AgentReply:    &stats.Group{Count: 1, TotalMs: 2000, MaxMs: 2000, AvgMs: 2000},
		AgentWait:     &stats.Group{Count: 2, TotalMs: 3, MaxMs: 2, AvgMs: 2},
		CustomerReply: &stats.Group{Count: 3, TotalMs: 4, MaxMs: 3, AvgMs: 1},
		CustomerWait:  &stats.Group{Count: 4, TotalMs: 5, MaxMs: 4, AvgMs: 1},
	}
	c.Productivity = stats.Productivity{OperatorMessages: 1, ClientMessages: 2, BotMessages: 1, ResponseMaxMs: ptr(2000), ResponseAvgMs: ptr(2000)}
	c.Channel = "web"
	c.Language = "fr"
	c.Async = true
	c.CustomerName = "Jane Doe"
	c.Metadata = map[string]string{"botFlow": "it-support", "ünï": "cödé"}
	c.AttachedTickets = []string{"INC-2"}
	c.CreatedAt = Stamp(T0)
	c.UpdatedAt = Stamp(T0.Add(11 * time.Minute))
	c.SyncedAt = Stamp(T0.Add(11 * time.Minute))
	c.ClosedReason = "stale"
	c.SourceHash = "sha256:0123456789abcdef"
	return c
}

var phrases = []string{
	"Bonjour, j'ai oublié mon mot de passe — pouvez-vous m'aider ?",
	"Привет! У меня не работает VPN уже два дня.",
	"こんにちは、プリンターが動きません。",
	"我的电脑无法连接到网络，请帮忙。",
	"مرحبا، لا أستطيع تسجيل الدخول إلى حسابي",
	"שלום, המסך שלי שחור",
	"Ελήφθη το αίτημά σας 👍🏽 — θα σας απαντήσουμε σύντομα",
	"e\u0301le\u0300ve (combining marks) and ZWJ 👩‍💻 and \u200b zero width",
	"Tabs\tand\nnewlines \"quotes\" \\backslashes\\ <b>html</b> & ampersands",
	"",
}

// LongChatLog returns n chat lines of varied, mostly non-ASCII text, with an
// attachment now and then.
func LongChatLog(n int) []stats.LogEntry {
	log := make([]stats.LogEntry, n)
	roles := []string{"customer", "agent", "bot", "system"}
	for i := range log {
		e := stats.LogEntry{
			At:          Stamp(T0.Add(time.Duration(i) * 1500 * time.Millisecond)),
			Participant: fmt.Sprintf("p%d", i%4),
			Role:        roles[i%4],
		}
		if i%4 != 2 {
			e.Name = fmt.Sprintf("Ñame %d", i%4)
		}
		if i%97 == 0 {
			e.File = &stats.File{Name: fmt.Sprintf("fichier-%d.pdf", i), ContentType: "application/pdf", Size: int64(i) * 1000}
		} else {
			e.Text = fmt.Sprintf("%d: %s", i, phrases[i%len(phrases)])
		}
		log[i] = e
	}
	return log
}

// HugeChatLog returns a chat log of about size bytes of JSON that compresses
// poorly (random letters from several scripts), so it cannot fit any item.
func HugeChatLog(size int) []stats.LogEntry {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := [][]rune{
		[]rune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
		[]rune("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"),
		[]rune("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事过"),
	}
	var log []stats.LogEntry
	total := 0
	for i := 0; total < size; i++ {
		var b strings.Builder
		a := alphabets[i%len(alphabets)]
		for j := 0; j < 2000; j++ {
			b.WriteRune(a[rng.IntN(len(a))])
		}
		e := stats.LogEntry{At: Stamp(T0.Add(time.Duration(i) * time.Second)), Participant: "c1", Role: "customer", Text: b.String()}
		total += len(e.Text) + 60
		log = append(log, e)
	}
	return log
}
