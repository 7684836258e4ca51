package service

import (
	"net/http"
	"strings"
	"time"
)

// maxRetryAfter bounds a retry delay: a larger one is more likely a mistake
// than advice.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads an HTTP Retry-After value (RFC 9110 10.2.3),
// delay-seconds or an HTTP-date, as a delay from now, zero if passed. It
// reports false for an empty or invalid value, which callers ignore.
func parseRetryAfter(v string, now func() time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		var secs int64
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			if secs <= int64(maxRetryAfter/time.Second) {
				secs = secs*10 + int64(c-'0')
			}
		}
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now()), 0), maxRetryAfter), true
}
