package sources

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Source kinds, the values of SOURCE.
const (
	KindHTTP    = "http"
	KindConnect = "connect"
	KindFiles   = "files"
)

// Config is the source configuration read from the environment. Only the
// part of the chosen Kind is filled.
type Config struct {
	Kind string
	// HTTP has BaseURL, Token (empty when TokenSecret names a Secrets
	// Manager secret main must read), RPS and Timeout set.
	HTTP        HTTPOptions
	TokenSecret string
	Bucket      string // CONNECT_BUCKET
	Prefix      string // CONNECT_PREFIX, with a final slash
	FilesDir    string // FILES_DIR
}

// ConfigFromEnv reads SOURCE and the settings of that source, failing with
// a message that names the missing or bad variable. Settings of other
// sources are not read, so a stray one does not stop start-up.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{Kind: get("SOURCE")}
	switch c.Kind {
	case KindHTTP:
		base := get("PLATFORM_URL")
		if base == "" {
			return c, fmt.Errorf("PLATFORM_URL is required when SOURCE=http")
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("PLATFORM_URL %q is not an absolute http(s) URL", base)
		}
		c.HTTP.BaseURL = base
		c.HTTP.Token = get("PLATFORM_TOKEN")
		c.TokenSecret = get("PLATFORM_TOKEN_SECRET")
		switch {
		case c.HTTP.Token == "" && c.TokenSecret == "":
			return c, fmt.Errorf("PLATFORM_TOKEN or PLATFORM_TOKEN_SECRET is required when SOURCE=http")
		case c.HTTP.Token != "" && c.TokenSecret != "":
			return c, fmt.Errorf("PLATFORM_TOKEN and PLATFORM_TOKEN_SECRET are both set: set only one")
		}
		c.HTTP.RPS = 20
		if v := get("PLATFORM_RPS"); v != "" {
			rps, err := strconv.ParseFloat(v, 64)
			if err != nil || rps <= 0 || math.IsInf(rps, 0) || math.IsNaN(rps) {
				return c, fmt.Errorf("PLATFORM_RPS %q must be a positive number (requests per second)", v)
			}
			c.HTTP.RPS = rps
		}
		c.HTTP.Timeout = 10 * time.Second
		if v := get("PLATFORM_TIMEOUT"); v != "" {
			d, err := parseSeconds(v)
			if err != nil {
				return c, fmt.Errorf("PLATFORM_TIMEOUT %q: %v", v, err)
			}
			c.HTTP.Timeout = d
		}
	case KindConnect:
		c.Bucket = get("CONNECT_BUCKET")
		if c.Bucket == "" {
			return c, fmt.Errorf("CONNECT_BUCKET is required when SOURCE=connect")
		}
		c.Prefix = get("CONNECT_PREFIX")
		if strings.HasPrefix(c.Prefix, "/") {
			return c, fmt.Errorf("CONNECT_PREFIX %q must not start with a slash (S3 keys do not)", c.Prefix)
		}
		if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
			c.Prefix += "/"
		}
	case KindFiles:
		c.FilesDir = get("FILES_DIR")
		if c.FilesDir == "" {
			return c, fmt.Errorf("FILES_DIR is required when SOURCE=files")
		}
	case "":
		return c, fmt.Errorf("SOURCE is required: http, connect or files")
	default:
		return c, fmt.Errorf("SOURCE %q is not one of http, connect, files", c.Kind)
	}
	return c, nil
}

// parseSeconds takes a Go duration ("2500ms", "10s") or plain seconds ("10",
// "2.5"), as the spec gives the timeout in seconds.
func parseSeconds(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("not a duration (e.g. 10s, 2500ms) nor a number of seconds")
		}
		if f > float64(24*time.Hour/time.Second) {
			return 0, fmt.Errorf("longer than a day")
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}
