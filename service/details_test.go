package service_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestDetails checks that Details puts the first detail of each of its types
// in its field, and every other detail, in order, in Unknown: repeats,
// other types, and the errors of details that do not decode.
func TestDetails(t *testing.T) {
	info := &errdetails.ErrorInfo{Reason: "REQUEST_LIMIT_EXCEEDED", Domain: service.Domain}
	retry := &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)}
	quota := &errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "api_key"}}}
	badReq := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page"}}}
	help := &errdetails.Help{Links: []*errdetails.Help_Link{{Url: "https://developer.themoviedb.org/docs/errors"}}}
	secondInfo := &errdetails.ErrorInfo{Reason: "SECOND", Domain: "example.com"}
	debug := &errdetails.DebugInfo{Detail: "other type"}

	var details []*anypb.Any
	for _, m := range []proto.Message{info, secondInfo, retry, quota, debug, badReq, help} {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		details = append(details, a)
	}
	broken := &anypb.Any{TypeUrl: "type.googleapis.com/google.rpc.Help", Value: []byte{0xff}}
	details = append(details, broken)
	st := status.FromProto(&spb.Status{Code: int32(codes.ResourceExhausted), Message: "x", Details: details})

	got := service.Details(st)
	want := service.ErrorDetails{ErrorInfo: info, RetryInfo: retry, QuotaFailure: quota, BadRequest: badReq, Help: help}
	if diff := cmp.Diff(want, got, protocmp.Transform(), cmpopts.IgnoreFields(service.ErrorDetails{}, "Unknown")); diff != "" {
		t.Errorf("Details(%v) differs (-want +got):\n%s", st.Proto(), diff)
	}
	if len(got.Unknown) != 3 {
		t.Fatalf("Details(%v).Unknown = %v; want the second ErrorInfo, the DebugInfo and an error", st.Proto(), got.Unknown)
	}
	for i, m := range []proto.Message{secondInfo, debug} {
		if diff := cmp.Diff(m, got.Unknown[i], protocmp.Transform()); diff != "" {
			t.Errorf("Details(%v).Unknown[%d] differs (-want +got):\n%s", st.Proto(), i, diff)
		}
	}
	if _, ok := got.Unknown[2].(error); !ok {
		t.Errorf("Details(%v).Unknown[2] = %v; want the error of the detail that does not decode", st.Proto(), got.Unknown[2])
	}
}

// TestDetailsEmpty checks that a nil status and one without details have no
// details.
func TestDetailsEmpty(t *testing.T) {
	for _, st := range []*status.Status{nil, status.New(codes.OK, ""), status.New(codes.Unavailable, "x")} {
		if got := service.Details(st); !cmp.Equal(got, service.ErrorDetails{}, protocmp.Transform()) {
			t.Errorf("Details(%v) = %+v; want none", st, got)
		}
	}
}
