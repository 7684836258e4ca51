package service_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// dial serves service.New over an in-memory connection and returns a client.
func dial(t *testing.T) tmdbstatusv1.StatusServiceClient {
	t.Helper()
	srv := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(srv, service.New())
	return tmdbstatusv1.NewStatusServiceClient(testutil.Bufconn(t, srv))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestLookupOverGRPC(t *testing.T) {
	c := dial(t)
	for _, e := range service.Entries() {
		resp, err := c.Lookup(ctx(t), &tmdbstatusv1.LookupRequest{Code: e.TMDBCode()})
		if err != nil {
			t.Fatalf("Lookup(%d) error = %v", e.TMDBCode(), err)
		}
		got := resp.GetEntry()
		want := &tmdbstatusv1.StatusEntry{
			Status: e.Status, Code: e.TMDBCode(), HttpStatus: int32(e.HTTPStatus), Message: e.Message,
			GrpcCode: code.Code(e.Code), Reason: e.Reason, Retryable: e.Retryable,
		}
		if e.Retryable {
			want.DefaultRetryDelay = durationpb.New(e.RetryDelay)
		}
		if !proto.Equal(got, want) {
			t.Errorf("Lookup(%d) = %v; want %v", e.TMDBCode(), got, want)
		}
	}
}

func TestLookupErrorsOverGRPC(t *testing.T) {
	c := dial(t)
	for _, tc := range []struct {
		code   int32
		want   codes.Code
		reason string
	}{
		{0, codes.InvalidArgument, service.ReasonInvalidCode},
		{-7, codes.InvalidArgument, service.ReasonInvalidCode},
		{48, codes.NotFound, service.ReasonUnknownCode},
		{1 << 30, codes.NotFound, service.ReasonUnknownCode},
	} {
		_, err := c.Lookup(ctx(t), &tmdbstatusv1.LookupRequest{Code: tc.code})
		st := status.Convert(err)
		if st.Code() != tc.want {
			t.Errorf("Lookup(%d) error = %v; want %v", tc.code, err, tc.want)
			continue
		}
		info := errorInfo(t, st)
		if info.GetReason() != tc.reason || info.GetDomain() != service.ServiceDomain {
			t.Errorf("Lookup(%d) ErrorInfo = %v; want reason %s in %s", tc.code, info, tc.reason, service.ServiceDomain)
		}
	}
	// The server lives on after bad input.
	if _, err := c.Lookup(ctx(t), &tmdbstatusv1.LookupRequest{Code: 7}); err != nil {
		t.Errorf("Lookup(7) after errors = %v", err)
	}
}

func errorInfo(t *testing.T, st *status.Status) *errdetails.ErrorInfo {
	t.Helper()
	d := service.Details(st)
	for _, u := range d.Unknown {
		t.Errorf("status %v holds a repeated, unexpected or broken detail: %v", st.Proto(), u)
	}
	return d.ErrorInfo
}

func TestListStatusesOverGRPC(t *testing.T) {
	resp, err := dial(t).ListStatuses(ctx(t), &tmdbstatusv1.ListStatusesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	entries := service.Entries()
	if len(resp.GetEntries()) != len(entries) {
		t.Fatalf("ListStatuses returned %d entries; want %d", len(resp.GetEntries()), len(entries))
	}
	for i, e := range resp.GetEntries() {
		if e.GetCode() != entries[i].TMDBCode() || e.GetReason() != entries[i].Reason {
			t.Errorf("ListStatuses entry %d = %d %s; want %d %s", i, e.GetCode(), e.GetReason(), entries[i].TMDBCode(), entries[i].Reason)
		}
	}
}

func TestTranslateOverGRPC(t *testing.T) {
	c := dial(t)
	resp, err := c.Translate(ctx(t), &tmdbstatusv1.TranslateRequest{
		HttpStatus: 429,
		RetryAfter: "2",
		Body:       `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`,
	})
	if err != nil {
		t.Fatalf("Translate error = %v", err)
	}
	st := status.FromProto(resp.GetStatus())
	if st.Code() != codes.ResourceExhausted || resp.GetEntry().GetCode() != 25 {
		t.Errorf("Translate(25) = %v, entry %v; want RESOURCE_EXHAUSTED and entry 25", st.Code(), resp.GetEntry())
	}
	if info := errorInfo(t, st); info.GetReason() != "REQUEST_LIMIT_EXCEEDED" || info.GetDomain() != service.Domain {
		t.Errorf("Translate(25) ErrorInfo = %v", info)
	}
	if delay := service.Details(st).RetryInfo.GetRetryDelay().AsDuration(); delay != 2*time.Second {
		t.Errorf("Translate(25) RetryInfo delay = %v; want 2s", delay)
	}

	// The translated status is the one a Go handler would return: it
	// survives the trip as a gRPC error too.
	if _, err := c.Translate(ctx(t), &tmdbstatusv1.TranslateRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Translate(empty) error = %v; want INVALID_ARGUMENT", err)
	} else if info := errorInfo(t, status.Convert(err)); info.GetReason() != service.ReasonMissingStatus {
		t.Errorf("Translate(empty) ErrorInfo = %v; want reason %s", info, service.ReasonMissingStatus)
	}
}

func TestErrorSurvivesTheWire(t *testing.T) {
	// A Go handler returns service.Error; its client sees the same status.
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error { return service.Error(7) }))
	conn := testutil.Bufconn(t, srv)
	err := conn.Invoke(ctx(t), "/any.Service/Method", &tmdbstatusv1.LookupRequest{}, &tmdbstatusv1.LookupResponse{})
	st := status.Convert(err)
	want, _ := status.FromError(service.Error(7))
	if !proto.Equal(st.Proto(), want.Proto()) {
		t.Errorf("client saw %v; want %v", st.Proto(), want.Proto())
	}
}
