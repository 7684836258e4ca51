package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// panickingServer is the service with a Lookup that panics.
type panickingServer struct{ *service.Server }

func (panickingServer) Lookup(context.Context, *tmdbstatusv1.LookupRequest) (*tmdbstatusv1.LookupResponse, error) {
	panic("boom")
}

func TestRESTPanicIsInternalError(t *testing.T) {
	var logs bytes.Buffer
	cfg := DefaultConfig()
	h := restHandler(cfg, newLogger(&logs, "text", cfg.LogLevel), noop.NewTracerProvider(), newMetrics(), panickingServer{service.New()})

	for range 2 { // the handler answers, and goes on answering
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/statuses/7", nil))
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("GET /v1/statuses/7 with a panicking Lookup = %d; want 500", rec.Code)
		}
		var st spb.Status
		if err := protojson.Unmarshal(rec.Body.Bytes(), &st); err != nil || codes.Code(st.GetCode()) != codes.Internal {
			t.Errorf("body = %s (%v); want a google.rpc.Status with code INTERNAL", rec.Body, err)
		}
	}
	if !strings.Contains(logs.String(), "panic in HTTP handler") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("log = %q; want the panic logged with its value", logs.String())
	}
	// A request that does not panic is served as usual.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/statuses", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("GET /v1/statuses = %d; want 200", rec.Code)
	}
}
