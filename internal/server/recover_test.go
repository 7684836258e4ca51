package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// panickingServer is the service with a Lookup that panics.
type panickingServer struct{ *service.Server }

func (panickingServer) Lookup(context.Context, *tmdbstatusv1.LookupRequest) (*tmdbstatusv1.LookupResponse, error) {
	panic("boom")
}

func TestRESTPanicIsInternalError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	cfg := DefaultConfig()
	h := restHandler(cfg, &observer{logger: newLogger(&logs, "text", cfg.LogLevel), metrics: newMetrics()}, nil, panickingServer{service.New()})

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
		checkInternalErrorInfo(t, "REST", status.FromProto(&st))
		if got := rec.Header().Get("Cache-Control"); got != gateway.ErrorCacheControl {
			t.Errorf("Cache-Control of the answer to a panic = %q; want %q, as every error", got, gateway.ErrorCacheControl)
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

// checkInternalErrorInfo checks that st has exactly one ErrorInfo, with
// the reason of a panic.
func checkInternalErrorInfo(t *testing.T, what string, st *status.Status) {
	t.Helper()
	var infos []*errdetails.ErrorInfo
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			infos = append(infos, info)
		}
	}
	if len(infos) != 1 || infos[0].GetReason() != service.ReasonInternalError || infos[0].GetDomain() != service.ServiceDomain {
		t.Errorf("%s: details = %v; want one ErrorInfo %s in %s", what, st.Details(), service.ReasonInternalError, service.ServiceDomain)
	}
}

// TestGRPCPanicIsInternalError checks that a panicking handler is answered
// with INTERNAL and an ErrorInfo, logged, and that the server lives on.
func TestGRPCPanicIsInternalError(t *testing.T) {
	t.Parallel()
	s := startServeWith(t, DefaultConfig(), serveOptions{
		wrap: func(tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer {
			return panickingServer{service.New()}
		},
	}, false)
	client := tmdbstatusv1.NewStatusServiceClient(testutil.Dial(t, s.GRPCAddr))
	for range 2 {
		_, err := client.Lookup(testutil.Context(t), &tmdbstatusv1.LookupRequest{Code: 7})
		st := status.Convert(err)
		if st.Code() != codes.Internal {
			t.Fatalf("Lookup(7) with a panicking handler = %v; want INTERNAL", err)
		}
		checkInternalErrorInfo(t, "gRPC", st)
	}
	if _, err := client.ListStatuses(testutil.Context(t), &tmdbstatusv1.ListStatusesRequest{}); err != nil {
		t.Errorf("ListStatuses after the panics: %v", err)
	}
	waitForLog(t, s.log, regexp.MustCompile(`panic in RPC handler.*boom`))
}
