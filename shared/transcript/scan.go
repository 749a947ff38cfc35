package transcript

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a small pull parser for JSON held in a string. The decoders use
// it instead of encoding/json because the rules of reading need things
// reflection-based decoding does not give: exact (case-sensitive) field names,
// null treated as missing, type errors that name the field and the event's
// index, and fields checked only for the event types they belong to. It also
// avoids a copy per string: unescaped strings are slices of the one input
// string.
//
// Every value is fully validated, including the ones skipped, so a decoder
// built on it accepts only documents encoding/json would accept.
type scanner struct {
	s string
	i int
	// shallow turns off the duplicate-key check in skipped values; sniff
	// sets it, since the decoder it hands over to reads everything again.
	shallow bool
}

// keySet records the keys met in one object so that a repeated key is
// refused (the rules of reading: no duplicate keys). Keys are compared after
// unescaping, since next returns them unescaped: "te\u0078t" is "text".
// Callers map the keys they know to bits of known, which costs nothing
// per key; any other key goes to few, compared linearly, and only an object
// with more than len(few) such keys pays for a map. A keySet lives on the
// stack, so a usual object allocates nothing for the check.
type keySet struct {
	known uint32
	n     int
	few   [8]string
	many  map[string]struct{}
}

// seen marks key, known by bit if bit is not 0, and reports whether it
// was there already. The per-item loops spell it out as
// `bit != 0 && keys.seenBit(bit) || bit == 0 && keys.seenOther(key)`:
// seen itself is just over the inlining budget, and a call per key costs
// the event reader a few percent.
func (k *keySet) seen(bit uint32, key string) bool {
	if bit == 0 {
		return k.seenOther(key)
	}
	return k.seenBit(bit)
}

// seenBit marks a known key and reports whether it was there already.
func (k *keySet) seenBit(bit uint32) bool {
	old := k.known
	k.known = old | bit
	return old&bit != 0
}

// seenOther marks a key that has no bit and reports whether it was there
// already.
func (k *keySet) seenOther(key string) bool {
	if k.many != nil {
		if _, ok := k.many[key]; ok {
			return true
		}
		k.many[key] = struct{}{}
		return false
	}
	for _, s := range k.few[:k.n] {
		if s == key {
			return true
		}
	}
	if k.n < len(k.few) {
		k.few[k.n] = key
		k.n++
		return false
	}
	k.many = make(map[string]struct{}, 2*len(k.few))
	for _, s := range k.few {
		k.many[s] = struct{}{}
	}
	k.many[key] = struct{}{}
	return false
}

// dupKey is the error for a repeated key; path is the key's field path.
func dupKey(path string) *Error { return &Error{Field: path, Msg: "duplicate key"} }

// maxDepth bounds nesting in skipped values so a hostile document cannot
// exhaust the stack (encoding/json uses the same limit).
const maxDepth = 10000

// jsonKind of the next value.
type jsonKind uint8

const (
	kindEOF jsonKind = iota
	kindString
	kindNumber
	kindObject
	kindArray
	kindBool
	kindNull
	kindInvalid
)

var kindNames = [...]string{"end of input", "string", "number", "object", "array", "boolean", "null", "invalid"}

func (k jsonKind) String() string { return kindNames[k] }

func (sc *scanner) syntax(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf("not JSON: "+format+" at byte %d", append(args, sc.i)...)}
}

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// peek skips white space and tells the kind of the next value.
func (sc *scanner) peek() jsonKind {
	sc.ws()
	if sc.i >= len(sc.s) {
		return kindEOF
	}
	switch c := sc.s[sc.i]; c {
	case '"':
		return kindString
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return kindNumber
		}
		return kindInvalid
	}
}

// end checks that nothing but white space follows the document.
func (sc *scanner) end() error {
	sc.ws()
	if sc.i != len(sc.s) {
		return sc.syntax("unexpected data after the top-level value")
	}
	return nil
}

func (sc *scanner) expect(c byte) error {
	sc.ws()
	if sc.i >= len(sc.s) {
		return sc.syntax("unexpected end of input, want %q", c)
	}
	if sc.s[sc.i] != c {
		return sc.syntax("unexpected %q, want %q", sc.s[sc.i], c)
	}
	sc.i++
	return nil
}

// next advances to the next member of an object whose '{' was consumed;
// first is true on the first call. It returns ok=false after consuming the
// closing '}'.
func (sc *scanner) next(first bool) (key string, ok bool, err error) {
	sc.ws()
	if sc.i >= len(sc.s) {
		return "", false, sc.syntax("unexpected end of input in object")
	}
	c := sc.s[sc.i]
	if c == '}' {
		sc.i++
		return "", false, nil
	}
	if !first {
		if c != ',' {
			return "", false, sc.syntax("unexpected %q in object, want ',' or '}'", c)
		}
		sc.i++
		sc.ws()
	}
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return "", false, sc.syntax("object key must be a string")
	}
	if key, err = sc.str(); err != nil {
		return "", false, err
	}
	if err = sc.expect(':'); err != nil {
		return "", false, err
	}
	return key, true, nil
}

// elem advances to the next element of an array whose '[' was consumed.
func (sc *scanner) elem(first bool) (bool, error) {
	sc.ws()
	if sc.i >= len(sc.s) {
		return false, sc.syntax("unexpected end of input in array")
	}
	c := sc.s[sc.i]
	if c == ']' {
		sc.i++
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, sc.syntax("unexpected %q in array, want ',' or ']'", c)
		}
		sc.i++
	}
	return true, nil
}

// str reads a string value at the current '"'.
func (sc *scanner) str() (string, error) {
	start := sc.i + 1
	for j := start; j < len(sc.s); j++ {
		switch c := sc.s[j]; {
		case c == '"':
			sc.i = j + 1
			return sc.s[start:j], nil
		case c == '\\':
			return sc.strEscaped(start, j)
		case c < 0x20:
			sc.i = j
			return "", sc.syntax("control character in string")
		}
	}
	sc.i = len(sc.s)
	return "", sc.syntax("unterminated string")
}

// strEscaped is the slow path of str from the first backslash at j. Lone
// surrogates become U+FFFD, as encoding/json does.
func (sc *scanner) strEscaped(start, j int) (string, error) {
	buf := make([]byte, 0, j-start+16)
	buf = append(buf, sc.s[start:j]...)
	for j < len(sc.s) {
		c := sc.s[j]
		switch {
		case c == '"':
			sc.i = j + 1
			return string(buf), nil
		case c < 0x20:
			sc.i = j
			return "", sc.syntax("control character in string")
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= len(sc.s) {
			break
		}
		j++
		switch sc.s[j] {
		case '"', '\\', '/':
			buf = append(buf, sc.s[j])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(sc.s, j+1)
			if !ok {
				sc.i = j
				return "", sc.syntax("bad \\u escape")
			}
			j += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(sc.s, j+3); ok && j+2 < len(sc.s) && sc.s[j+1] == '\\' && sc.s[j+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						buf = utf8.AppendRune(buf, d)
						j += 6
						break
					}
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			sc.i = j
			return "", sc.syntax("bad escape \\%c", sc.s[j])
		}
		j++
	}
	sc.i = len(sc.s)
	return "", sc.syntax("unterminated string")
}

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var r rune
	for k := at; k < at+4; k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number value and returns its literal text.
func (sc *scanner) number() (string, error) {
	s, start, j := sc.s, sc.i, sc.i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	default:
		sc.i = j
		return "", sc.syntax("bad number")
	}
	if j < len(s) && s[j] == '.' {
		j++
		d := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == d {
			sc.i = j
			return "", sc.syntax("bad number")
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		d := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == d {
			sc.i = j
			return "", sc.syntax("bad number")
		}
	}
	sc.i = j
	return s[start:j], nil
}

func (sc *scanner) literal(word string) error {
	if len(sc.s)-sc.i < len(word) || sc.s[sc.i:sc.i+len(word)] != word {
		return sc.syntax("bad literal")
	}
	sc.i += len(word)
	return nil
}

// boolean reads true or false.
func (sc *scanner) boolean() (bool, error) {
	if sc.s[sc.i] == 't' {
		return true, sc.literal("true")
	}
	return false, sc.literal("false")
}

// skip validates and passes over the next value of any kind.
func (sc *scanner) skip() error { return sc.skipDepth(0) }

func (sc *scanner) skipDepth(depth int) error {
	switch sc.peek() {
	case kindString:
		_, err := sc.skipString()
		return err
	case kindNumber:
		_, err := sc.number()
		return err
	case kindBool:
		_, err := sc.boolean()
		return err
	case kindNull:
		return sc.literal("null")
	case kindObject:
		if depth >= maxDepth {
			return sc.syntax("nesting too deep")
		}
		sc.i++
		var keys keySet
		for first := true; ; first = false {
			at := sc.i
			key, ok, err := sc.next(first)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if !sc.shallow && keys.seenOther(key) {
				// A skipped value has no field path worth building on the
				// hot path; the byte offset finds it.
				sc.i = at
				sc.ws()
				if sc.s[sc.i] == ',' {
					sc.i++
					sc.ws()
				}
				return &Error{Msg: fmt.Sprintf("duplicate key %q in an object at byte %d", clip(key), sc.i)}
			}
			if err := sc.skipDepth(depth + 1); err != nil {
				return err
			}
		}
	case kindArray:
		if depth >= maxDepth {
			return sc.syntax("nesting too deep")
		}
		sc.i++
		for first := true; ; first = false {
			ok, err := sc.elem(first)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := sc.skipDepth(depth + 1); err != nil {
				return err
			}
		}
	case kindEOF:
		return sc.syntax("unexpected end of input, want a value")
	default:
		return sc.syntax("unexpected %q, want a value", sc.s[sc.i])
	}
}

// skipString validates a string without decoding it (no allocation).
func (sc *scanner) skipString() (bool, error) {
	for j := sc.i + 1; j < len(sc.s); j++ {
		switch c := sc.s[j]; {
		case c == '"':
			sc.i = j + 1
			return true, nil
		case c == '\\':
			if j+1 >= len(sc.s) {
				sc.i = len(sc.s)
				return false, sc.syntax("unterminated string")
			}
			j++
			switch sc.s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hex4(sc.s, j+1); !ok {
					sc.i = j
					return false, sc.syntax("bad \\u escape")
				}
				j += 4
			default:
				sc.i = j
				return false, sc.syntax("bad escape \\%c", sc.s[j])
			}
		case c < 0x20:
			sc.i = j
			return false, sc.syntax("control character in string")
		}
	}
	sc.i = len(sc.s)
	return false, sc.syntax("unterminated string")
}

// Typed reads. Each reads the next value; st tells whether it was missing
// (null), of the wanted kind, or of another kind (then it was skipped, so the
// caller decides whether that matters). err is only for malformed JSON.
type valueState uint8

const (
	stNull valueState = iota
	stOK
	stWrong
)

func (sc *scanner) optString() (string, valueState, error) {
	switch sc.peek() {
	case kindString:
		v, err := sc.str()
		return v, stOK, err
	case kindNull:
		return "", stNull, sc.literal("null")
	}
	return "", stWrong, sc.skip()
}

func (sc *scanner) optBool() (bool, valueState, error) {
	switch sc.peek() {
	case kindBool:
		v, err := sc.boolean()
		return v, stOK, err
	case kindNull:
		return false, stNull, sc.literal("null")
	}
	return false, stWrong, sc.skip()
}

func (sc *scanner) optNumber() (string, valueState, error) {
	switch sc.peek() {
	case kindNumber:
		v, err := sc.number()
		return v, stOK, err
	case kindNull:
		return "", stNull, sc.literal("null")
	}
	return "", stWrong, sc.skip()
}

// nonNegInt parses a JSON number literal that must be a plain non-negative
// integer: no sign, fraction or exponent (1.0 and 1e3 are refused, since
// nothing is guessed).
func nonNegInt(lit string) (int64, bool) {
	if lit == "" || lit[0] < '0' || lit[0] > '9' {
		return 0, false
	}
	for k := 0; k < len(lit); k++ {
		if lit[k] < '0' || lit[k] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	return n, err == nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
