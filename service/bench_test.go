package service

import (
	"context"
	"testing"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

var (
	sinkEntry Entry
	sinkOK    bool
	sinkErr   error
	sinkTr    Translation
	sinkResp  *tmdbstatusv1.TranslateResponse
)

func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkEntry, sinkOK = Lookup(int32(1 + i%47))
	}
}

func BenchmarkError(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkErr = Error(int32(1 + i%47))
	}
}

func benchTranslate(b *testing.B, req *tmdbstatusv1.TranslateRequest) {
	b.ReportAllocs()
	for b.Loop() {
		sinkTr, sinkErr = Translate(req)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

func BenchmarkTranslateByCode(b *testing.B) {
	benchTranslate(b, &tmdbstatusv1.TranslateRequest{StatusCode: 7})
}

func BenchmarkTranslateBody(b *testing.B) {
	benchTranslate(b, &tmdbstatusv1.TranslateRequest{
		Body: `{"success":false,"status_code":7,"status_message":"Invalid API key: You must be granted a valid key."}`,
	})
}

func BenchmarkTranslateHTTPFallback(b *testing.B) {
	benchTranslate(b, &tmdbstatusv1.TranslateRequest{HttpStatus: 503})
}

func BenchmarkTranslateRetryAfter(b *testing.B) {
	benchTranslate(b, &tmdbstatusv1.TranslateRequest{StatusCode: 25, HttpStatus: 429, RetryAfter: "10"})
}

func BenchmarkServerTranslateByCode(b *testing.B) {
	s, ctx := New(), context.Background()
	req := &tmdbstatusv1.TranslateRequest{StatusCode: 34}
	b.ReportAllocs()
	for b.Loop() {
		sinkResp, sinkErr = s.Translate(ctx, req)
	}
}

func BenchmarkServerLookup(b *testing.B) {
	s, ctx := New(), context.Background()
	req := &tmdbstatusv1.LookupRequest{Code: 7}
	b.ReportAllocs()
	for b.Loop() {
		_, sinkErr = s.Lookup(ctx, req)
	}
}

// BenchmarkServerLookupUnknown builds the NOT_FOUND error of a code TMDB's
// table does not define, as the gRPC handler returns it.
func BenchmarkServerLookupUnknown(b *testing.B) {
	s, ctx := New(), context.Background()
	req := &tmdbstatusv1.LookupRequest{Code: 99}
	b.ReportAllocs()
	for b.Loop() {
		_, sinkErr = s.Lookup(ctx, req)
	}
}

// BenchmarkServerTranslateRetryAfter is the gRPC handler's share of
// BenchmarkTranslateRetryAfter: the status is built, but not copied into a
// *status.Status as the package function does.
func BenchmarkServerTranslateRetryAfter(b *testing.B) {
	s, ctx := New(), context.Background()
	req := &tmdbstatusv1.TranslateRequest{StatusCode: 25, HttpStatus: 429, RetryAfter: "10"}
	b.ReportAllocs()
	for b.Loop() {
		sinkResp, sinkErr = s.Translate(ctx, req)
	}
}
