package service

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestRetryInfoAny checks the hand-written RetryInfo against proto.Marshal,
// byte for byte, whole seconds or not.
func TestRetryInfoAny(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, time.Second, 10 * time.Second, 1500 * time.Millisecond, maxRetryAfter, 1<<63 - 1} {
		want, err := anypb.New(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatal(err)
		}
		if got := retryInfoAny(d); !proto.Equal(got, want) {
			t.Errorf("retryInfoAny(%v) = %x; want %x", d, got.GetValue(), want.GetValue())
		}
	}
}

// TestWithRetryInfo checks that adding a delay to a row's shared answer
// gives the status failure.status builds, for every retryable row.
func TestWithRetryInfo(t *testing.T) {
	for _, r := range tmdb.rows {
		if r == nil || !r.Retryable {
			continue
		}
		const delay = 10 * time.Second
		want := r.known(r.Message, 0, nil, delay).status()
		if got := r.answer.withRetryInfo(delay); !statusEqual(t, got, want) {
			t.Errorf("code %d: withRetryInfo(%v) = %v; want %v", r.Status, delay, got, want)
		}
	}
}

// statusEqual reports whether a and b are equal once their details are
// unmarshaled: the bytes of a detail holding a map vary from one marshal
// to the next.
func statusEqual(t *testing.T, a, b *spb.Status) bool {
	t.Helper()
	if a.GetCode() != b.GetCode() || a.GetMessage() != b.GetMessage() || len(a.GetDetails()) != len(b.GetDetails()) {
		return false
	}
	for i := range a.GetDetails() {
		da, err := a.GetDetails()[i].UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		db, err := b.GetDetails()[i].UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(da, db) {
			return false
		}
	}
	return true
}
