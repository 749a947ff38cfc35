package api

import (
	"strconv"
	"strings"
)

// WantsHTML reports whether a request's Accept header prefers text/html to
// application/json. Each type takes the q-value of the most specific range
// that matches it (text/html over text/* over */*, RFC 9110 §12.5.1); HTML
// wins only with a strictly higher q, so JSON stays the answer for no
// Accept, for */*, for ties and for anything unparsable. A browser's
// "text/html,…,*/*;q=0.8" gets HTML; curl's "*/*" gets JSON.
func WantsHTML(accept string) bool {
	if accept == "" {
		return false
	}
	html, json := acceptQ(accept, "text", "html"), acceptQ(accept, "application", "json")
	return html > json
}

// acceptQ is the q-value (in thousandths) the Accept header gives to
// typ/sub; 0 when nothing matches.
func acceptQ(accept, typ, sub string) int {
	best, q := -1, 0
	for _, rng := range strings.Split(accept, ",") {
		params := strings.Split(rng, ";")
		mt := strings.ToLower(strings.TrimSpace(params[0]))
		t, s, ok := strings.Cut(mt, "/")
		if !ok {
			continue
		}
		spec := -1
		switch {
		case t == typ && s == sub:
			spec = 2
		case t == typ && s == "*":
			spec = 1
		case t == "*" && s == "*":
			spec = 0
		}
		if spec <= best {
			continue
		}
		rq, valid := 1000, true
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				rq, valid = parseQ(strings.TrimSpace(v))
			}
		}
		if !valid {
			continue // a range with a malformed q is ignored, not trusted
		}
		best, q = spec, rq
	}
	return q
}

// parseQ reads a qvalue: 0, 1, 0.x…, 1.000 (at most three decimals).
func parseQ(v string) (int, bool) {
	if v == "" || len(v) > 5 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole != "0" && whole != "1" || len(frac) > 3 {
		return 0, false
	}
	n := 0
	if frac != "" {
		f, err := strconv.Atoi(frac)
		if err != nil || strings.ContainsAny(frac, "+-") {
			return 0, false
		}
		n = f * [...]int{1000, 100, 10, 1}[len(frac)]
	}
	if whole == "1" {
		if n != 0 {
			return 0, false
		}
		return 1000, true
	}
	return n, true
}
