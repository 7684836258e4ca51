package service

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestWithRetryInfo checks that adding a delay to an entry's shared
// translation gives the status translation.status builds, for every
// retryable entry and delays whole or not.
func TestWithRetryInfo(t *testing.T) {
	for _, e := range tmdb.byCode {
		if e == nil || !e.Retryable {
			continue
		}
		for _, delay := range []time.Duration{0, time.Nanosecond, 10 * time.Second, 1500 * time.Millisecond, maxRetryAfter} {
			want := e.translate(e.Message, 0, nil, delay).status()
			if diff := cmp.Diff(want, e.translation.withRetryInfo(delay), protocmp.Transform()); diff != "" {
				t.Errorf("code %d: withRetryInfo(%v) differs from the status built anew (-want +got):\n%s", e.Status, delay, diff)
			}
		}
	}
}
