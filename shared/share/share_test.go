package share_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/share"
)

var (
	key    = []byte("0123456789abcdef0123456789abcdef")
	other  = []byte("fedcba9876543210fedcba9876543210")
	now    = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	expiry = now.Add(share.Default)
)

func sign(t testing.TB, k []byte, folder, id string, exp time.Time) string {
	t.Helper()
	tok, err := share.Sign(k, folder, id, exp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRoundTrip(t *testing.T) {
	tok := sign(t, key, "acme", "w-2026-11-20-0001", expiry)
	l, err := share.Verify(key, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	want := share.Link{Folder: "acme", SessionID: "w-2026-11-20-0001", Expires: expiry}
	if l != want {
		t.Errorf("got %+v, want %+v", l, want)
	}
	if strings.ContainsAny(tok, "+/=?&#% ") {
		t.Errorf("token %q is not URL-safe", tok)
	}
}

// Every single byte changed anywhere in the token, to every other byte of
// the token alphabet, is refused as invalid (never as expired, never good).
func TestEveryByteFlipIsInvalid(t *testing.T) {
	tok := sign(t, key, "acme", "s:1.x_y-z", expiry)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	n := 0
	for i := 0; i < len(tok); i++ {
		for _, c := range []byte(alphabet + "\x00\xff=") {
			if c == tok[i] {
				continue
			}
			b := []byte(tok)
			b[i] = c
			if _, err := share.Verify(key, string(b), now); !errors.Is(err, share.ErrInvalid) {
				t.Fatalf("byte %d set to %q: err %v, want ErrInvalid", i, c, err)
			}
			n++
		}
		// Bit flips too, which reach bytes outside the alphabet.
		for bit := 0; bit < 8; bit++ {
			b := []byte(tok)
			b[i] ^= 1 << bit
			if _, err := share.Verify(key, string(b), now); !errors.Is(err, share.ErrInvalid) {
				t.Fatalf("byte %d bit %d flipped: err %v, want ErrInvalid", i, bit, err)
			}
			n++
		}
	}
	// Dropped and added bytes.
	for i := 0; i < len(tok); i++ {
		if _, err := share.Verify(key, tok[:i]+tok[i+1:], now); !errors.Is(err, share.ErrInvalid) {
			t.Fatalf("byte %d dropped: %v", i, err)
		}
	}
	for _, s := range []string{tok + "A", "A" + tok, tok + ".", tok + "=", ""} {
		if _, err := share.Verify(key, s, now); !errors.Is(err, share.ErrInvalid) {
			t.Fatalf("%q: %v", s, err)
		}
	}
	t.Logf("%d altered tokens refused", n)
}

// The parts of one genuine token cannot be recombined with another's: a
// message of folder B (same id) with A's signature, an extended expiry with
// the old signature, another key.
func TestSwappedPartsAreInvalid(t *testing.T) {
	a := sign(t, key, "acme", "s1", expiry)
	b := sign(t, key, "beta", "s1", expiry)
	c := sign(t, key, "acme", "s2", expiry)
	later := sign(t, key, "acme", "s1", expiry.Add(time.Hour))
	msg := func(s string) string { m, _, _ := strings.Cut(s, "."); return m }
	sig := func(s string) string { _, g, _ := strings.Cut(s, "."); return g }
	for name, tok := range map[string]string{
		"folder swapped":   msg(b) + "." + sig(a),
		"id swapped":       msg(c) + "." + sig(a),
		"expiry extended":  msg(later) + "." + sig(a),
		"other key":        sign(t, other, "acme", "s1", expiry),
		"signature only":   sig(a),
		"message only":     msg(a),
		"two signatures":   a + "." + sig(a),
		"padding added":    msg(a) + "==." + sig(a),
		"empty signature":  msg(a) + ".",
		"empty message":    "." + sig(a),
		"garbage":          "not a token",
		"over-long":        strings.Repeat("A", 5000) + "." + sig(a),
		"lower-cased":      strings.ToLower(a),
		"standard base64+": strings.ReplaceAll(a, "-", "+"),
	} {
		if tok == a {
			continue // ToLower etc. may leave it alone only if it had no letters: never
		}
		if _, err := share.Verify(key, tok, now); !errors.Is(err, share.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
	if _, err := share.Verify(other, a, now); !errors.Is(err, share.ErrInvalid) {
		t.Errorf("verified with another key: %v", err)
	}
}

// The link opens until the second before its expiry and not at it.
func TestExpiryWithInjectedClock(t *testing.T) {
	tok := sign(t, key, "acme", "s1", expiry)
	for _, tc := range []struct {
		at   time.Time
		want error
	}{
		{now, nil},
		{expiry.Add(-time.Second), nil},
		{expiry.Add(-time.Nanosecond), nil},
		{expiry, share.ErrExpired},
		{expiry.Add(time.Nanosecond), share.ErrExpired},
		{expiry.Add(365 * 24 * time.Hour), share.ErrExpired},
	} {
		l, err := share.Verify(key, tok, tc.at)
		if !errors.Is(err, tc.want) && err != tc.want {
			t.Errorf("at %s: err %v, want %v", tc.at, err, tc.want)
		}
		if l.Folder != "acme" || l.SessionID != "s1" || !l.Expires.Equal(expiry) {
			t.Errorf("at %s: link %+v", tc.at, l)
		}
	}
	// Sub-second expiries are cut to the second, so the signed message and
	// the answered expiresAt agree.
	odd := sign(t, key, "acme", "s1", expiry.Add(700*time.Millisecond))
	if _, err := share.Verify(key, odd, expiry); !errors.Is(err, share.ErrExpired) {
		t.Errorf("expiry+0.7s checked at expiry: %v", err)
	}
}

func TestSignRefuses(t *testing.T) {
	for name, f := range map[string]func() error{
		"short key":  func() error { _, err := share.Sign(key[:31], "acme", "s1", expiry); return err },
		"bad folder": func() error { _, err := share.Sign(key, "ac me", "s1", expiry); return err },
		"newline id": func() error { _, err := share.Sign(key, "acme", "s1\nbeta", expiry); return err },
		"empty id":   func() error { _, err := share.Sign(key, "acme", "", expiry); return err },
		"base":       func() error { _, err := share.URL("ftp://x", key, "acme", "s1", expiry); return err },
		"base query": func() error { _, err := share.URL("https://x/?a=1", key, "acme", "s1", expiry); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := share.Verify(key[:31], sign(t, key, "acme", "s1", expiry), now); !errors.Is(err, share.ErrInvalid) {
		t.Errorf("short verify key: %v", err)
	}
}

func TestURL(t *testing.T) {
	for _, base := range []string{"https://api.example.com", "https://api.example.com/", "https://api.example.com/prod"} {
		u, err := share.URL(base, key, "acme", "w:1", expiry)
		if err != nil {
			t.Fatal(err)
		}
		prefix := strings.TrimSuffix(base, "/") + "/v1/chat-sessions/w:1?folder=acme&share="
		if !strings.HasPrefix(u, prefix) {
			t.Fatalf("%s: %s", base, u)
		}
		if _, err := share.Verify(key, strings.TrimPrefix(u, prefix), now); err != nil {
			t.Errorf("%s: token of the URL: %v", base, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(sign(f, key, "acme", "s1", expiry))
	f.Add(sign(f, key, "beta", strings.Repeat("x", 128), expiry))
	f.Add("")
	f.Add(".")
	f.Add("a.b")
	f.Add("Y2hhdGNhcmRzLXNoYXJlLXYxCmFjbWUKczEKMA.")
	f.Fuzz(func(t *testing.T, tok string) {
		l, err := share.Verify(key, tok, now)
		switch {
		case err == nil, errors.Is(err, share.ErrExpired):
			// A genuine token, good or expired, must be one Sign makes: the
			// parser accepts nothing the signer would not write.
			again, serr := share.Sign(key, l.Folder, l.SessionID, l.Expires)
			if serr != nil || again != tok {
				t.Fatalf("accepted %q that Sign does not make (%q, %v)", tok, again, serr)
			}
			if err == nil && !now.Before(l.Expires) {
				t.Fatalf("good at or after its expiry: %q", tok)
			}
		case !errors.Is(err, share.ErrInvalid):
			t.Fatalf("unexpected error %v", err)
		}
	})
}
