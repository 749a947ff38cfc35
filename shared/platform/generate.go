// Package platform is the reference chat platform: a generator of realistic
// transcripts and a small server with the history API sources.md describes,
// with switchable faults, for the demo, load tests and the source tests.
package platform

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chatcards/chatcards/shared/transcript"
)

// Kind is the shape of a generated session.
type Kind int

const (
	KindLive      Kind = iota // bot, handoff, queue, one or more agents, ended
	KindBotOnly               // the bot answers, no handoff
	KindAbandoned             // handoff, nobody comes, the customer leaves
	KindAsync                 // messaging-style: dormant, resumed hours later
	KindRunning               // a live session still going: no ended yet
	numKinds
)

var kindNames = [...]string{"live", "bot-only", "abandoned", "async", "running"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// GenerateOptions shape a generated batch. Zero values take the defaults named.
type GenerateOptions struct {
	N     int   // sessions to make
	Seed  int64 // same seed, same options: same transcripts
	Start time.Time
	// Spacing is the mean gap between session starts (default 3 min).
	Spacing time.Duration
	Folder  string // the transcripts' tenant (default "helpdesk")
	// MessagesPerSession, when > 0, makes every session a live one with
	// about that many messages (for 5,000-message tests).
	MessagesPerSession int
	// Kinds, when set, draws only these kinds (e.g. only KindRunning).
	Kinds []Kind
}

// Generate makes opt.N transcripts, each passing Normalize. Session ids are
// w-<YYYY-MM-DD>-<n> (the start day, the 1-based index). When N is at least
// the number of kinds, the first sessions cover every kind once, so even a
// small demo batch shows the whole variety.
func Generate(opt GenerateOptions) []*transcript.Transcript {
	if opt.Start.IsZero() {
		opt.Start = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	}
	if opt.Spacing <= 0 {
		opt.Spacing = 3 * time.Minute
	}
	if opt.Folder == "" {
		opt.Folder = "helpdesk"
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x9e3779b97f4a7c15))
	first := rng.Perm(int(numKinds))
	out := make([]*transcript.Transcript, 0, max(opt.N, 0))
	at := opt.Start.UTC()
	for i := 0; i < opt.N; i++ {
		var k Kind
		switch {
		case opt.MessagesPerSession > 0:
			k = KindLive
		case len(opt.Kinds) > 0:
			k = opt.Kinds[rng.IntN(len(opt.Kinds))]
		case opt.N >= int(numKinds) && i < int(numKinds):
			k = Kind(first[i])
		default:
			k = pickKind(rng)
		}
		// Each session has its own generator seeded from the batch's, so a
		// session does not change when the options of another one do.
		g := &gen{
			rng:   rand.New(rand.NewPCG(rng.Uint64(), uint64(i))),
			start: at,
			want:  opt.MessagesPerSession,
		}
		t := g.session(k, fmt.Sprintf("w-%s-%04d", at.Format(time.DateOnly), i+1), opt.Folder)
		out = append(out, t)
		at = at.Add(time.Duration(float64(opt.Spacing) * (0.25 + 1.5*rng.Float64())))
	}
	return out
}

// pickKind weighs kinds like a help desk's day: mostly live chats.
func pickKind(rng *rand.Rand) Kind {
	switch r := rng.IntN(100); {
	case r < 50:
		return KindLive
	case r < 68:
		return KindBotOnly
	case r < 80:
		return KindAbandoned
	case r < 90:
		return KindAsync
	default:
		return KindRunning
	}
}

// KindOf tells which kind a transcript looks like, from its events alone;
// tests use it to check the variety of a batch. It works on transcripts not
// yet normalised (it looks participants up by id, not by Event.P).
func KindOf(t *transcript.Transcript) Kind {
	agents := map[string]bool{}
	for _, p := range t.Participants {
		if p.Role == transcript.RoleAgent {
			agents[p.ID] = true
		}
	}
	var ended, handoff, agent bool
	for i := range t.Events {
		e := &t.Events[i]
		switch e.Type {
		case transcript.EventEnded:
			ended = true
		case transcript.EventHandoff:
			handoff = true
		case transcript.EventJoined:
			agent = agent || agents[e.Participant]
		}
	}
	switch {
	case !ended:
		return KindRunning
	case t.Async:
		return KindAsync
	case !handoff:
		return KindBotOnly
	case !agent:
		return KindAbandoned
	}
	return KindLive
}

type lang struct {
	tag                         string
	greet, queue, thank, joined string
	customer                    []string
	agent                       []string
	bot                         []string
	names                       []string
}

// The text is invented help-desk small talk in a few languages, non-ASCII
// included, so the engine and the exports meet real-world strings.
var langs = []lang{
	{tag: "en", joined: "%s joined the chat", greet: "Hi! I'm Helpbot. How can I help?", queue: "All our agents are busy. You are number %d in the queue.", thank: "Thanks for chatting with us!",
		customer: []string{"My VPN is broken", "hello?", "I can't log in to the portal", "It says my password expired", "ok", "Still waiting…", "It worked, thanks!", "Can you reset it for me?", "The printer on floor 3 is jammed again", "Is there an outage?"},
		agent:    []string{"Hi, I'm looking at it now", "Could you send a screenshot?", "I've reset your password", "Please try again now", "I'll open a ticket for this", "Anything else I can help with?", "One moment please"},
		bot:      []string{"Have you tried restarting the VPN client?", "Here is an article that may help: Resetting your password", "I can connect you with a live agent.", "Sorry, I didn't get that."},
		names:    []string{"Jane Doe", "Oliver Smith", "Amelia Brown", "Noah Wilson"}},
	{tag: "fi", joined: "%s liittyi keskusteluun", greet: "Hei! Olen Helpbot. Miten voin auttaa?", queue: "Kaikki asiantuntijamme ovat varattuja. Olet jonossa sijalla %d.", thank: "Kiitos yhteydenotosta!",
		customer: []string{"VPN ei toimi", "haloo?", "En pääse kirjautumaan", "Salasana vanheni", "ok", "Odotan yhä…", "Nyt toimii, kiitos!", "Tulostin on jumissa"},
		agent:    []string{"Hei, katson asiaa", "Voisitko lähettää kuvakaappauksen?", "Nollasin salasanasi", "Kokeile nyt uudelleen", "Teen tästä tiketin", "Voinko auttaa muussa?"},
		bot:      []string{"Oletko kokeillut käynnistää VPN-asiakkaan uudelleen?", "Tässä ohje salasanan vaihtoon", "Voin yhdistää sinut asiantuntijalle."},
		names:    []string{"Päivi Mäkelä", "Jääkko Öhman", "Aino Lähteenmäki"}},
	{tag: "sv", joined: "%s anslöt till chatten", greet: "Hej! Jag är Helpbot. Hur kan jag hjälpa?", queue: "Alla handläggare är upptagna. Du är nummer %d i kön.", thank: "Tack för att du chattade med oss!",
		customer: []string{"Min VPN fungerar inte", "hallå?", "Jag kan inte logga in", "ok", "Väntar fortfarande…", "Tack, nu fungerar det!"},
		agent:    []string{"Hej, jag tittar på det", "Kan du skicka en skärmdump?", "Jag har återställt ditt lösenord", "Något mer jag kan hjälpa till med?"},
		bot:      []string{"Har du provat att starta om VPN-klienten?", "Jag kan koppla dig till en handläggare."},
		names:    []string{"Åsa Lindström", "Björn Ek"}},
	{tag: "de", joined: "%s ist dem Chat beigetreten", greet: "Hallo! Ich bin Helpbot. Wie kann ich helfen?", queue: "Alle Mitarbeiter sind beschäftigt. Sie sind Nummer %d in der Warteschlange.", thank: "Danke für Ihre Nachricht!",
		customer: []string{"Mein VPN funktioniert nicht", "hallo?", "Ich kann mich nicht anmelden", "ok", "Warte immer noch…", "Jetzt geht's, danke schön!"},
		agent:    []string{"Hallo, ich schaue es mir an", "Könnten Sie einen Screenshot schicken?", "Ich habe Ihr Passwort zurückgesetzt", "Kann ich sonst noch helfen?"},
		bot:      []string{"Haben Sie den VPN-Client neu gestartet?", "Ich verbinde Sie mit einem Mitarbeiter."},
		names:    []string{"Jürgen Groß", "Käthe Müller"}},
	{tag: "ja", joined: "%s が参加しました", greet: "こんにちは！ヘルプボットです。ご用件をどうぞ。", queue: "担当者はただいま対応中です。%d 番目にお待ちください。", thank: "お問い合わせありがとうございました！",
		customer: []string{"VPNがつながりません", "もしもし？", "ログインできません", "はい", "まだ待っています…", "直りました、ありがとう！"},
		agent:    []string{"確認しますね", "スクリーンショットを送っていただけますか？", "パスワードをリセットしました", "他にご質問はありますか？"},
		bot:      []string{"VPNクライアントを再起動してみましたか？", "担当者におつなぎします。"},
		names:    []string{"山田 陽子", "佐藤 健"}},
}

var agentPool = []struct{ name, person string }{
	{"Ann", "person/7"}, {"Ben", "person/8"}, {"Chloé", "person/9"}, {"Dmitri", "person/10"},
	{"Eeva", "person/11"}, {"Fatima", "person/12"}, {"Gustav", "person/13"}, {"陽子", "person/14"},
}

var supervisorPool = []struct{ name, person string }{{"Sam", "person/3"}, {"Ségolène", "person/4"}}

var channels = []string{"web", "web", "web", "facebook", "sms", "teams"}

var attachments = []transcript.File{
	{Name: "error.png", ContentType: "image/png", Size: 48211},
	{Name: "vpn-log.txt", ContentType: "text/plain", Size: 5120},
	{Name: "kuvakaappaus 2026-11-20.jpg", ContentType: "image/jpeg", Size: 201334},
	{Name: "invoice.pdf", ContentType: "application/pdf", Size: 88123},
}

var pages = []string{
	"https://intra.example.com/help/vpn",
	"https://intra.example.com/help/password?lang=fi&ref=chat",
	"https://intra.example.com/printers/floor-3",
	"https://intra.example.com/status",
}

var markers = []string{"vpn", "password-reset", "printer", "outage", "faq-shown"}

// gen builds one session; its clock only moves forward.
type gen struct {
	rng   *rand.Rand
	start time.Time
	now   int64 // ms
	t     *transcript.Transcript
	lang  lang
	msgs  int
	want  int
}

func (g *gen) after(minSec, maxSec float64) int64 {
	g.now += int64((minSec + g.rng.Float64()*(maxSec-minSec)) * 1000)
	return g.now
}

func (g *gen) add(e transcript.Event) {
	if e.At == 0 {
		e.At = g.now
	}
	if e.Type == transcript.EventMessage {
		g.msgs++
	}
	g.t.Events = append(g.t.Events, e)
}

func (g *gen) say(p string, text string, auto bool) {
	g.add(transcript.Event{Type: transcript.EventMessage, Participant: p, Text: text, Automatic: auto})
}

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *gen) participant(p transcript.Participant) string {
	g.t.Participants = append(g.t.Participants, p)
	return p.ID
}

func (g *gen) session(k Kind, id, folder string) *transcript.Transcript {
	g.lang = langs[g.rng.IntN(len(langs))]
	g.now = transcript.Millis(g.start) + int64(g.rng.IntN(1000))
	g.t = &transcript.Transcript{
		Version:   1,
		SessionID: id,
		Tenant:    folder,
		Channel:   channels[g.rng.IntN(len(channels))],
		Language:  g.lang.tag,
		Async:     k == KindAsync,
	}
	c := g.participant(transcript.Participant{ID: "c1", Role: transcript.RoleCustomer, Name: g.pick(g.lang.names), Person: fmt.Sprintf("person/%d", 1000+g.rng.IntN(9000))})
	b := g.participant(transcript.Participant{ID: "b1", Role: transcript.RoleBot, Name: "Helpbot"})
	sys := g.participant(transcript.Participant{ID: "sys", Role: transcript.RoleSystem})

	g.add(transcript.Event{Type: transcript.EventStarted})
	if g.rng.IntN(3) == 0 {
		g.add(transcript.Event{Type: transcript.EventPage, URL: g.pick(pages)})
	}
	g.after(0.5, 2)
	g.say(b, g.lang.greet, true)
	g.after(4, 30)
	g.say(c, g.pick(g.lang.customer), false)
	for n := g.rng.IntN(3); n > 0; n-- {
		g.after(1, 3)
		g.say(b, g.pick(g.lang.bot), false)
		g.after(5, 40)
		g.say(c, g.pick(g.lang.customer), false)
	}
	if g.rng.IntN(2) == 0 {
		g.add(transcript.Event{Type: transcript.EventMarker, Marker: g.pick(markers)})
	}

	if k == KindBotOnly {
		g.after(1, 3)
		g.say(b, g.pick(g.lang.bot), false)
		if g.rng.IntN(4) == 0 {
			g.add(transcript.Event{Type: transcript.EventTicket, Participant: b, Ticket: g.ticket()})
		}
		g.after(5, 60)
		g.say(c, g.pick(g.lang.customer), false)
		g.after(2, 20)
		if g.rng.IntN(2) == 0 {
			g.add(transcript.Event{Type: transcript.EventLeft, Participant: c, Reason: "quit"})
			g.add(transcript.Event{Type: transcript.EventEnded, Participant: c, Reason: "quit"})
		} else {
			g.after(300, 900)
			g.add(transcript.Event{Type: transcript.EventEnded, Reason: "inactive"})
		}
		return g.t
	}

	// Handoff and the queue: the customer keeps typing while waiting.
	g.after(1, 3)
	g.add(transcript.Event{Type: transcript.EventHandoff})
	g.after(0.2, 1)
	g.say(sys, fmt.Sprintf(g.lang.queue, 1+g.rng.IntN(6)), true)

	if k == KindAsync {
		g.after(20, 120)
		g.say(c, g.pick(g.lang.customer), false)
		g.after(60, 600)
		g.add(transcript.Event{Type: transcript.EventDormant})
		// Hours later an agent picks the conversation up.
		g.after(3600, 6*3600)
		g.add(transcript.Event{Type: transcript.EventResumed})
		a := g.agent(1)
		g.add(transcript.Event{Type: transcript.EventJoined, Participant: a})
		g.conversation(c, a, 3+g.rng.IntN(6), 30, 1800)
		g.after(60, 3600)
		g.add(transcript.Event{Type: transcript.EventLeft, Participant: a})
		g.after(600, 3600)
		g.add(transcript.Event{Type: transcript.EventEnded, Reason: "inactive"})
		return g.t
	}

	wait := 20 + g.rng.Float64()*280
	if k == KindAbandoned {
		wait = 60 + g.rng.Float64()*400
	}
	waitEnd := g.now + int64(wait*1000)
	for g.now < waitEnd-15000 && g.rng.IntN(3) > 0 {
		g.after(10, 60)
		if g.now >= waitEnd {
			break
		}
		g.say(c, g.pick(g.lang.customer), false)
	}
	if g.now < waitEnd {
		g.now = waitEnd
	}

	if k == KindAbandoned {
		if g.rng.IntN(2) == 0 {
			g.add(transcript.Event{Type: transcript.EventLeft, Participant: c, Reason: "quit"})
			g.add(transcript.Event{Type: transcript.EventEnded, Participant: c, Reason: "quit"})
		} else {
			g.add(transcript.Event{Type: transcript.EventLeft, Participant: c, Reason: "disconnect"})
			g.after(30, 120)
			g.add(transcript.Event{Type: transcript.EventEnded, Reason: "disconnect"})
		}
		return g.t
	}

	a := g.agent(1)
	g.add(transcript.Event{Type: transcript.EventJoined, Participant: a})
	g.after(0.1, 1)
	g.say(sys, fmt.Sprintf(g.lang.joined, g.t.Participants[len(g.t.Participants)-1].Name), true)
	if g.want == 0 && g.rng.IntN(2) == 0 {
		// Half the customers write before the agent has said anything, so
		// the wait before the first reply is not always zero.
		g.after(2, 40)
		g.say(c, g.pick(g.lang.customer), false)
	}
	turns := 4 + g.rng.IntN(16)
	if g.want > 0 {
		turns = g.want // bounded by the message count below
	}
	g.conversation(c, a, turns, 5, 90)

	if g.want == 0 && g.rng.IntN(4) == 0 {
		g.supervisor(a)
	}
	if g.rng.IntN(4) == 0 {
		// A redirect: the first agent leaves and a colleague joins in the
		// same instant.
		g.after(5, 30)
		g.add(transcript.Event{Type: transcript.EventLeft, Participant: a})
		a = g.agent(2)
		g.add(transcript.Event{Type: transcript.EventJoined, Participant: a})
		g.conversation(c, a, 2+g.rng.IntN(5), 5, 90)
	}
	if g.rng.IntN(3) == 0 {
		g.after(5, 60)
		f := attachments[g.rng.IntN(len(attachments))]
		from := c
		if g.rng.IntN(3) == 0 {
			from = a // an agent sends a guide or a form
		}
		g.add(transcript.Event{Type: transcript.EventAttachment, Participant: from, File: &f})
	}
	if g.rng.IntN(2) == 0 {
		g.after(5, 60)
		g.add(transcript.Event{Type: transcript.EventTicket, Participant: a, Ticket: g.ticket()})
	}
	if k == KindRunning {
		g.after(5, 30)
		g.say(c, g.pick(g.lang.customer), false)
		return g.t
	}
	g.after(5, 60)
	g.say(a, g.lang.thank, false)
	g.after(5, 60)
	switch g.rng.IntN(3) {
	case 0:
		g.add(transcript.Event{Type: transcript.EventLeft, Participant: c, Reason: "quit"})
		g.after(5, 40)
		g.add(transcript.Event{Type: transcript.EventEnded, Participant: a, Reason: "force"})
	case 1:
		g.add(transcript.Event{Type: transcript.EventEnded, Participant: c, Reason: "quit"})
	default:
		g.add(transcript.Event{Type: transcript.EventLeft, Participant: c, Reason: "disconnect"})
		g.after(60, 300)
		g.add(transcript.Event{Type: transcript.EventEnded, Reason: "inactive"})
	}
	g.survey(id, c)
	return g.t
}

// ratingScores are the post-chat survey answers, most of them good, as real
// CSAT distributions are.
var ratingScores = [...]int{5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1}

// ratingComments by score (1–5): some answers carry a free-text comment.
var ratingComments = [...]string{"Nobody solved my problem", "Took far too long", "OK in the end", "Quick and helpful", "Great, fixed in minutes!"}

// survey adds a post-chat rating after the end to about half of the live
// chats (transcript rule 5: a rating after ended still counts). It draws
// from its own generator seeded by the session id, so adding it left every
// other generated figure as it was.
func (g *gen) survey(id, customer string) {
	var seed uint64
	for _, b := range []byte(id) {
		seed = seed*131 + uint64(b)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	if r.IntN(2) == 0 {
		return
	}
	e := transcript.Event{At: g.now + int64(30_000+r.IntN(600_000)), Type: transcript.EventRating, Participant: customer,
		Score: ratingScores[r.IntN(len(ratingScores))]}
	if r.IntN(3) == 0 {
		e.Comment = ratingComments[min(e.Score, len(ratingComments))-1]
	}
	g.t.Events = append(g.t.Events, e)
}

// conversation alternates customer and agent lines; with a message target
// (MessagesPerSession) it runs until the session holds that many messages.
func (g *gen) conversation(c, a string, turns int, minGap, maxGap float64) {
	for i := 0; i < turns; i++ {
		if g.want > 0 && g.msgs >= g.want {
			return
		}
		g.after(minGap, maxGap)
		if i%2 == 0 {
			g.say(a, g.pick(g.lang.agent), false)
		} else {
			g.say(c, g.pick(g.lang.customer), false)
		}
		if g.want == 0 && g.rng.IntN(5) == 0 {
			g.after(1, 10)
			g.say(c, g.pick(g.lang.customer), false)
		}
	}
}

func (g *gen) agent(n int) string {
	p := agentPool[g.rng.IntN(len(agentPool))]
	return g.participant(transcript.Participant{ID: fmt.Sprintf("a%d", n), Role: transcript.RoleAgent, Name: p.name, Person: p.person})
}

// supervisor adds a coach (who talks to the agent, unseen by the customer)
// or a silent monitor.
func (g *gen) supervisor(a string) {
	p := supervisorPool[g.rng.IntN(len(supervisorPool))]
	vis := transcript.VisibilityMonitor
	if g.rng.IntN(2) == 0 {
		vis = transcript.VisibilityCoach
	}
	s := g.participant(transcript.Participant{ID: "s1", Role: transcript.RoleSupervisor, Name: p.name, Person: p.person, Visibility: vis})
	g.after(5, 30)
	g.add(transcript.Event{Type: transcript.EventJoined, Participant: s})
	if vis == transcript.VisibilityCoach {
		g.after(5, 30)
		g.say(s, "Try the VPN profile reset first", false)
	}
	g.after(10, 60)
	g.say(a, g.pick(g.lang.agent), false)
	g.after(5, 30)
	g.add(transcript.Event{Type: transcript.EventLeft, Participant: s})
}

func (g *gen) ticket() string { return fmt.Sprintf("INC-%05d", 10000+g.rng.IntN(90000)) }

// CloseEvents returns events that finish a running session a few minutes
// after its last event (a last exchange, the customer leaving, the end), so
// a test can advance a transcript between two syncs. A session that already
// ended gets none.
func CloseEvents(t *transcript.Transcript) []transcript.Event {
	var last int64
	var cust, other string
	for i := range t.Events {
		if t.Events[i].Type == transcript.EventEnded {
			return nil
		}
		last = max(last, t.Events[i].At)
	}
	for i := range t.Participants {
		p := &t.Participants[i]
		switch {
		case p.Role == transcript.RoleCustomer && cust == "":
			cust = p.ID
		case (p.Role == transcript.RoleAgent || p.Role == transcript.RoleBot) && p.Visibility == transcript.VisibilityAll:
			other = p.ID // the last one listed: the agent who has the chat
		}
	}
	if last == 0 {
		last = time.Now().UnixMilli()
	}
	var ev []transcript.Event
	if other != "" {
		ev = append(ev, transcript.Event{At: last + 40_000, Type: transcript.EventMessage, Participant: other, Text: "Anything else I can help with?"})
	}
	if cust != "" {
		ev = append(ev,
			transcript.Event{At: last + 70_000, Type: transcript.EventMessage, Participant: cust, Text: "No, thanks — all good!"},
			transcript.Event{At: last + 80_000, Type: transcript.EventLeft, Participant: cust, Reason: "quit"},
			transcript.Event{At: last + 80_000, Type: transcript.EventEnded, Participant: cust, Reason: "quit"})
	} else {
		ev = append(ev, transcript.Event{At: last + 80_000, Type: transcript.EventEnded, Reason: "inactive"})
	}
	return ev
}
