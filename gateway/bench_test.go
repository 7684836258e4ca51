package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// benchHandler serves req with the gateway in-process, without a network,
// so that only the gateway's own work is measured.
func benchHandler(b *testing.B, method, path, body string, wantStatus int) {
	h := gateway.New(service.New())
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != wantStatus {
			b.Fatalf("%s %s = %d; want %d", method, path, w.Code, wantStatus)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	benchHandler(b, http.MethodGet, "/v1/statuses/7", "", http.StatusOK)
}

func BenchmarkLookupUnknown(b *testing.B) {
	benchHandler(b, http.MethodGet, "/v1/statuses/99", "", http.StatusNotFound)
}

func BenchmarkTranslateBody(b *testing.B) {
	benchHandler(b, http.MethodPost, "/v1/statuses:translate",
		`{"httpStatus":404,"body":"{\"success\":false,\"status_code\":34,\"status_message\":\"The resource you requested could not be found.\"}"}`,
		http.StatusOK)
}

func BenchmarkTranslateRetryAfter(b *testing.B) {
	benchHandler(b, http.MethodPost, "/v1/statuses:translate", `{"statusCode":25,"httpStatus":429,"retryAfter":"10"}`, http.StatusOK)
}

func BenchmarkLookupHead(b *testing.B) {
	benchHandler(b, http.MethodHead, "/v1/statuses/7", "", http.StatusOK)
}

func BenchmarkLookupNotModified(b *testing.B) {
	h := gateway.New(service.New())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/statuses/7", nil))
	etag := w.Header().Get("ETag")
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/v1/statuses/7", nil)
		r.Header.Set("If-None-Match", etag)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotModified {
			b.Fatalf("conditional GET = %d; want 304", w.Code)
		}
	}
}

func BenchmarkTranslateQuery(b *testing.B) {
	benchHandler(b, http.MethodPost, "/v1/statuses:translate?http_status=429&retry_after=10", `{"status_code":25}`, http.StatusOK)
}

// BenchmarkTranslate4MB posts a body of 4 MB, valid or with an error at
// its end: a valid body is decoded once; an error costs a second pass, to
// split the body into its members and name the one at fault.
func BenchmarkTranslate4MB(b *testing.B) {
	pad := strings.Repeat("x", gateway.DefaultMaxBodyBytes-100)
	b.Run("valid", func(b *testing.B) {
		benchHandler(b, http.MethodPost, "/v1/statuses:translate", `{"x":"`+pad+`","status_code":7}`, http.StatusOK)
	})
	b.Run("type error at the end", func(b *testing.B) {
		benchHandler(b, http.MethodPost, "/v1/statuses:translate", `{"x":"`+pad+`","status_code":"seven"}`, http.StatusBadRequest)
	})
	b.Run("syntax error at the end", func(b *testing.B) {
		benchHandler(b, http.MethodPost, "/v1/statuses:translate", `{"x":"`+pad+`","status_code":7,}`, http.StatusBadRequest)
	})
}
