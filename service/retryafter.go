package service

import (
	"net/http"
	"strings"
	"time"
)

// maxRetryAfter bounds the delay read from Retry-After: a larger value is
// more likely a mistake than advice, and durationpb must not overflow.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads an HTTP Retry-After value (RFC 9110 10.2.3):
// delay-seconds or an HTTP-date, which is turned into a delay from now (zero
// if it has passed). It reports false for an empty or invalid value, which
// callers ignore, as an HTTP client would. now is called only for a date.
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
