// Package share signs and checks the links that open one card's dialog
// view without an API token: HMAC-SHA256 over folder, session id and expiry.
// It is pure (no clock, no I/O): callers pass the key and the time.
package share

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
)

// MinKeyBytes is the shortest key accepted: HMAC-SHA256's own output size,
// so the key is never the weak part of the signature.
const MinKeyBytes = 32

// Default and Max are the lifetimes of a link when none is asked for, and
// the longest one may ask for.
const (
	Default = 7 * 24 * time.Hour
	Max     = 30 * 24 * time.Hour
)

// Param is the query parameter that carries a token on the dialog URL.
const Param = "share"

// version starts every signed message, so a later token format can never
// be mistaken for this one.
const version = "chatcards-share-v1"

// Errors of Verify. ErrInvalid covers every token that was not made by
// Sign with this key, altered or not (the page says "altered or broken"
// without saying which byte); ErrExpired is a genuine token past its time.
var (
	ErrInvalid = errors.New("share: the link is not valid (altered or incomplete)")
	ErrExpired = errors.New("share: the link has expired")
)

// Link is what a genuine token grants: read access to one card until
// Expires.
type Link struct {
	Folder, SessionID string
	Expires           time.Time // whole seconds, UTC
}

// ErrKey is returned by Sign and CheckKey for a key shorter than
// MinKeyBytes.
var ErrKey = errors.New("share: the key must be at least 32 bytes")

// CheckKey reports whether key is good enough to sign with.
func CheckKey(key []byte) error {
	if len(key) < MinKeyBytes {
		return ErrKey
	}
	return nil
}

// Sign returns the token for (folder, id) that stops working at expiry
// (truncated to whole seconds). The token is URL-safe: base64url of the
// message, ".", base64url of its HMAC-SHA256.
//
// The message is version, folder, id and the expiry in Unix seconds, joined
// by newlines. Folder codes and session ids cannot hold a newline (their
// character rules), so no two (folder, id, expiry) give the same message:
// a token for folder A never names folder B.
func Sign(key []byte, folder, id string, expiry time.Time) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if !card.ValidFolder(folder) {
		return "", errors.New("share: folder is not a folder code")
	}
	if !card.ValidSessionID(id) {
		return "", errors.New("share: id is not a session id")
	}
	msg := message(folder, id, expiry.Unix())
	return enc.EncodeToString(msg) + "." + enc.EncodeToString(mac(key, msg)), nil
}

var enc = base64.RawURLEncoding

func message(folder, id string, exp int64) []byte {
	return []byte(version + "\n" + folder + "\n" + id + "\n" + strconv.FormatInt(exp, 10))
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// maxToken bounds what Verify reads: a real token is under 300 bytes
// (64-character folder, 128-character id); anything far longer is refused
// before any decoding work.
const maxToken = 1024

// Verify checks token against key and returns what it grants. A token is
// good while now is before its expiry: at the expiry second itself it has
// expired (the link's expiresAt is the first instant it no longer opens).
//
// The signature is checked (constant time, hmac.Equal) before the message
// is parsed or the expiry read, so an altered token is always ErrInvalid,
// never ErrExpired, and nothing about an unsigned message is believed.
func Verify(key []byte, token string, now time.Time) (Link, error) {
	if CheckKey(key) != nil || len(token) > maxToken {
		return Link{}, ErrInvalid
	}
	msgPart, sigPart, ok := strings.Cut(token, ".")
	if !ok {
		return Link{}, ErrInvalid
	}
	msg, err1 := enc.Strict().DecodeString(msgPart)
	sig, err2 := enc.Strict().DecodeString(sigPart)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(key, msg)) {
		return Link{}, ErrInvalid
	}
	// Signed by us, so well formed unless the key was used for something
	// else; checked anyway because a parser must never trust its input.
	parts := strings.Split(string(msg), "\n")
	if len(parts) != 4 || parts[0] != version || !card.ValidFolder(parts[1]) || !card.ValidSessionID(parts[2]) {
		return Link{}, ErrInvalid
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != parts[3] {
		return Link{}, ErrInvalid
	}
	l := Link{Folder: parts[1], SessionID: parts[2], Expires: time.Unix(exp, 0).UTC()}
	if now.Unix() >= exp {
		return l, ErrExpired
	}
	return l, nil
}

// Path is the dialog view's path and query for a token: the card's own
// URL (api.md: "its URL is the link an analyst can share") plus the token.
// Folder codes and session ids need no escaping in a path or a query; the
// token is base64url.
func Path(folder, id, token string) string {
	return "/v1/chat-sessions/" + id + "?folder=" + folder + "&" + Param + "=" + token
}

// URL signs a link for (folder, id) expiring at expiry and returns it
// absolute under base (scheme and host, optionally a path prefix such as an
// API Gateway stage: "https://api.example.com/prod"). The summary page uses
// it for its links to dialog views.
func URL(base string, key []byte, folder, id string, expiry time.Time) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("share: base must be an absolute http(s) URL without query or fragment")
	}
	tok, err := Sign(key, folder, id, expiry)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + Path(folder, id, tok), nil
}
