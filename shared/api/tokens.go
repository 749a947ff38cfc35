package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// AllFolders in a token's folder list grants every folder. It exists for
// operators' and development tokens; a chatbot's token should name its
// folders.
const AllFolders = "*"

// Tokens is the set of API tokens, kept as SHA-256 hashes only. Build it
// with ParseTokens.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	hash    [sha256.Size]byte
	all     bool
	folders map[string]bool
}

// grant is what a presented token may do.
type grant struct {
	all     bool
	folders map[string]bool
}

func (g *grant) allows(folder string) bool { return g.all || g.folders[folder] }

// ParseTokens reads the API_TOKENS JSON: an object whose keys are the
// lowercase or uppercase hex SHA-256 of a token and whose values are the
// folders that token may use ("*" for every folder). Errors name the entry
// by its first hash characters only.
func ParseTokens(b []byte) (*Tokens, error) {
	var m map[string][]string
	if err := strictjson.Unmarshal(b, &m); err != nil {
		return nil, tokensJSONError(err)
	}
	if len(m) == 0 {
		return nil, errors.New("api tokens: no token configured")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	for _, k := range keys {
		short := k
		if len(short) > 8 {
			short = short[:8] + "…"
		}
		raw, err := hex.DecodeString(k)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("api tokens: key %q is not a hex SHA-256 (64 hex digits)", short)
		}
		e := tokenEntry{folders: map[string]bool{}}
		copy(e.hash[:], raw)
		if seen[e.hash] {
			return nil, fmt.Errorf("api tokens: key %q appears twice (in different letter case)", short)
		}
		seen[e.hash] = true
		if len(m[k]) == 0 {
			return nil, fmt.Errorf("api tokens: key %q has no folder", short)
		}
		for _, f := range m[k] {
			switch {
			case f == AllFolders:
				e.all = true
			case ValidFolder(f):
				e.folders[f] = true
			default:
				return nil, fmt.Errorf("api tokens: key %q: folder %q %s", short, f, folderRule)
			}
		}
		t.entries = append(t.entries, e)
	}
	return t, nil
}

// tokensJSONError explains a strictjson error without its text, which
// would repeat a whole hash: the entry is named by its first characters.
// A key given twice would otherwise silently lose one of its grants.
func tokensJSONError(err error) error {
	var ptr jsontext.Pointer
	var se *jsontext.SyntacticError
	var me *json.SemanticError
	switch {
	case errors.As(err, &se):
		ptr = se.JSONPointer
		if errors.Is(se.Err, jsontext.ErrDuplicateName) {
			return fmt.Errorf("api tokens: key %q appears twice", shortKey(ptr))
		}
	case errors.As(err, &me):
		ptr = me.JSONPointer
	}
	if ptr != "" {
		return fmt.Errorf("api tokens: key %q: want a list of folder names", shortKey(ptr))
	}
	return errors.New("api tokens: not a JSON object of hash → folder list (valid UTF-8, each key once, nothing after it)")
}

// shortKey is the first characters of the token hash a pointer starts with.
func shortKey(p jsontext.Pointer) string {
	for tok := range p.Tokens() {
		if len(tok) > 8 {
			return tok[:8] + "…"
		}
		return tok
	}
	return ""
}

// HashToken returns the hex SHA-256 of a token, the form API_TOKENS keeps.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// lookup returns the grant of token, or nil. It compares the hash with
// every entry in constant time and never stops early, so the time taken
// says nothing about which entry, if any, matched.
func (t *Tokens) lookup(token string) *grant {
	if t == nil || token == "" {
		return nil
	}
	h := sha256.Sum256([]byte(token))
	match := -1
	for i := range t.entries {
		eq := subtle.ConstantTimeCompare(h[:], t.entries[i].hash[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return nil
	}
	e := &t.entries[match]
	return &grant{all: e.all, folders: e.folders}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 9110 §11.1).
func bearer(h string) string {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// SecretGetter is the one Secrets Manager call the token loader needs.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretGetter = (*secretsmanager.Client)(nil)

// LoadTokensSecret reads the tokens from the Secrets Manager secret name,
// whose secret string is the same JSON as API_TOKENS. The call runs under
// ctx's deadline, or DefaultStoreTimeout when ctx has none, so a Secrets
// Manager that never answers fails the cold start instead of hanging it.
func LoadTokensSecret(ctx context.Context, sm SecretGetter, name string) (*Tokens, error) {
	if name == "" {
		return nil, errors.New("api.LoadTokensSecret: secret name is required")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStoreTimeout)
		defer cancel()
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &name})
	if err != nil {
		return nil, fmt.Errorf("api.LoadTokensSecret: get secret %s: %w", name, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("api.LoadTokensSecret: secret %s has no secret string", name)
	}
	t, err := ParseTokens([]byte(*out.SecretString))
	if err != nil {
		return nil, fmt.Errorf("api.LoadTokensSecret: secret %s: %w", name, err)
	}
	return t, nil
}
