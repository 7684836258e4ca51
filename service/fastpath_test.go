package service

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
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
			alone := e.alone()
			alone.delay = delay
			want := alone.status()
			if diff := cmp.Diff(want, e.translation.withRetryInfo(delay), protocmp.Transform()); diff != "" {
				t.Errorf("code %d: withRetryInfo(%v) differs from the status built anew (-want +got):\n%s", e.Status, delay, diff)
			}
		}
	}
}

// TestSharedTranslationsDoNotAllocate checks that handing out what is built
// once costs no allocation, for Go callers and the gRPC handlers alike.
func TestSharedTranslationsDoNotAllocate(t *testing.T) {
	srv, ctx := New(), context.Background()
	for _, req := range []*tmdbstatusv1.TranslateRequest{
		{StatusCode: 7}, {StatusCode: 25}, {StatusCode: 1}, {HttpStatus: 503}, {HttpStatus: 200},
	} {
		if n := testing.AllocsPerRun(100, func() { _, _ = Translate(req) }); n != 0 {
			t.Errorf("Translate(%v) allocates %v times; want 0", req, n)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = srv.Translate(ctx, req) }); n != 0 {
			t.Errorf("Server.Translate(%v) allocates %v times; want 0", req, n)
		}
	}
	for _, code := range []int32{7, 25} {
		if n := testing.AllocsPerRun(100, func() { _ = Error(code) }); n != 0 {
			t.Errorf("Error(%d) allocates %v times; want 0", code, n)
		}
	}
	// The Lookup errors of small codes are built once too.
	for _, code := range []int32{7, 99} {
		req := &tmdbstatusv1.LookupRequest{Code: code}
		if n := testing.AllocsPerRun(100, func() { _, _ = srv.Lookup(ctx, req) }); n != 0 {
			t.Errorf("Server.Lookup(%d) allocates %v times; want 0", code, n)
		}
	}
}
