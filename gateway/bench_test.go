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
