package stats

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Card holds the figures of one session, with the field names of the
// statistics spec. It is what `chatcards stats` prints and what the sync
// writes onto the stored card.
type Card struct {
	SessionID              string        `json:"sessionId"`
	Active                 bool          `json:"active"`
	Status                 string        `json:"status"`
	ChatLog                []LogEntry    `json:"chatLog"`
	MessageCount           int           `json:"messageCount"`
	Customer               string        `json:"customer,omitempty"`
	Members                []string      `json:"members"`
	SupportPerson          string        `json:"supportPerson,omitempty"`
	StartTime              string        `json:"startTime,omitempty"`
	EndTime                string        `json:"endTime,omitempty"`
	WaitBeforeFirstReplyMs *int64        `json:"waitBeforeFirstReplyMs"` // null when absent
	AgentGreetingMs        *int64        `json:"agentGreetingMs,omitempty"`
	RelatedTickets         []string      `json:"relatedTickets"`
	NoOperatorResponse     bool          `json:"noOperatorResponse"`
	Abandoned              bool          `json:"abandoned"`
	Markers                []string      `json:"markers"`
	Pages                  []string      `json:"pages"`
	Statistics             Statistics    `json:"statistics"`
	Agents                 []Agent       `json:"agents"`
	ResponseTimes          ResponseTimes `json:"responseTimes"`
	Productivity           Productivity  `json:"productivity"`

	// The figures of analytics.md.

	// Rating is the last `rating` event's, also one after `ended`; nil when none.
	Rating *Rating `json:"rating,omitempty"`
	// BotContained: closed, no handoff, no agent took part, a bot message.
	BotContained bool `json:"botContained"`
	// ServiceLevel is "met", "missed" or "" (absent: undecided or not applicable).
	ServiceLevel string `json:"serviceLevel,omitempty"`
	// BusinessHours is nil unless the folder has business hours.
	BusinessHours *BusinessHours `json:"businessHours,omitempty"`
	// PlatformFigures is what the source platform reported, unchanged; the
	// sync fills it, the engine never does.
	PlatformFigures json.RawMessage `json:"platformFigures,omitempty"`
	// ResponseSamples keeps every pair's amount for exact percentiles.
	ResponseSamples ResponseSamples `json:"responseSamples"`
	// FirstReplyBy is the participant id of the first reply's sender (the
	// first agent message of the first handle period, the message
	// waitBeforeFirstReplyMs ends at); "" (omitted) when there is none.
	// Beyond analytics.md: the productivity report credits an agent's
	// service level with it, which the card could not tell otherwise.
	FirstReplyBy string `json:"firstReplyBy,omitempty"`
}

// Rating is the customer's rating of the chat: Score 1–5, Comment "" for none.
type Rating struct {
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

// BusinessHours holds figures measured in the folder's business time; a
// field is nil when its calendar figure is null or absent.
type BusinessHours struct {
	WaitBeforeFirstReplyMs *int64 `json:"waitBeforeFirstReplyMs,omitempty"`
	UntilFirstAgentMs      *int64 `json:"untilFirstAgentMs,omitempty"`
	CustomerWait           *Group `json:"customerWait,omitempty"`
}

// ResponseSamples are the calendar amounts of every customerWait pair, in
// pair order; CustomerWaitMs is never nil on a computed card.
type ResponseSamples struct {
	CustomerWaitMs []int64 `json:"customerWaitMs"`
	// CustomerWaitBy is the participant id of the agent whose message ended
	// each pair, parallel to CustomerWaitMs (never nil on a computed card).
	// Beyond analytics.md: the productivity report needs per-agent
	// percentiles. A card stored before this field has it nil (absent):
	// its pairs are credited to no agent.
	CustomerWaitBy []string `json:"customerWaitBy"`
}

// Service levels.
const (
	ServiceLevelMet    = "met"
	ServiceLevelMissed = "missed"
)

// LogEntry is one chat line: a message (Text) or an attachment (File).
type LogEntry struct {
	At          string `json:"at"`
	Participant string `json:"participant"`
	Role        string `json:"role"`
	Name        string `json:"name,omitempty"`
	Text        string `json:"text,omitempty"`
	File        *File  `json:"file,omitempty"`
}

// logEntryWire is LogEntry with "text" always written: a message of size 0
// (transcript rule 7: a button, a card) keeps "text": "" so a reader can
// tell it is a message (statistics.md: "then text for a message").
type logEntryWire struct {
	At          string `json:"at"`
	Participant string `json:"participant"`
	Role        string `json:"role"`
	Name        string `json:"name,omitempty"`
	Text        string `json:"text"`
}

// MarshalJSON writes "text" for every message, "" included, and "file"
// (without "text") for an attachment.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	if e.File != nil || e.Text != "" {
		type plain LogEntry // the same fields without this method
		return json.Marshal(plain(e))
	}
	return json.Marshal(logEntryWire{At: e.At, Participant: e.Participant, Role: e.Role, Name: e.Name})
}

// File describes an attachment in the chat log.
type File struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// Agent is the per-agent figures of one session.
type Agent struct {
	Participant  string `json:"participant"`
	Person       string `json:"person"`
	Name         string `json:"name,omitempty"`
	Messages     int64  `json:"messages"`
	ReplyCount   int64  `json:"replyCount"`
	ReplyTotalMs int64  `json:"replyTotalMs"`
	ReplyMaxMs   int64  `json:"replyMaxMs"`
	ReplyAvgMs   *int64 `json:"replyAvgMs,omitempty"`
	PresenceMs   int64  `json:"presenceMs"`
}

// Group is one wait/reply figure to the millisecond.
type Group struct {
	Count   int64 `json:"count"`
	TotalMs int64 `json:"totalMs"`
	MaxMs   int64 `json:"maxMs"`
	AvgMs   int64 `json:"avgMs"`
}

// ResponseTimes holds the four wait/reply groups; a group with no pair is nil.
type ResponseTimes struct {
	AgentReply    *Group `json:"agentReply,omitempty"`
	AgentWait     *Group `json:"agentWait,omitempty"`
	CustomerReply *Group `json:"customerReply,omitempty"`
	CustomerWait  *Group `json:"customerWait,omitempty"`
}

// Productivity is the session productivity block.
type Productivity struct {
	OperatorMessages int64  `json:"operatorMessages"`
	ClientMessages   int64  `json:"clientMessages"`
	BotMessages      int64  `json:"botMessages"`
	ResponseMaxMs    *int64 `json:"responseMaxMs,omitempty"`
	ResponseAvgMs    *int64 `json:"responseAvgMs,omitempty"`
}

// Value is one entry of the statistics map: a string or an integer.
type Value struct {
	Str   string
	Num   int64
	IsStr bool
}

// Str and Num build Values.
func Str(s string) Value { return Value{Str: s, IsStr: true} }
func Num(n int64) Value  { return Value{Num: n} }

// String renders the value as it would appear in a CSV cell.
func (v Value) String() string {
	if v.IsStr {
		return v.Str
	}
	return strconv.FormatInt(v.Num, 10)
}

func (v Value) MarshalJSON() ([]byte, error) {
	if v.IsStr {
		return json.Marshal(v.Str)
	}
	return strconv.AppendInt(nil, v.Num, 10), nil
}

func (v *Value) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.IsStr = true
		v.Num = 0
		return json.Unmarshal(b, &v.Str)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("statistics value %s: not a string or an integer", b)
	}
	*v = Value{Num: n}
	return nil
}

// Statistics is the `statistics` map of a card, keyed by csg_/cse_ names.
type Statistics map[string]Value
