package service_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestSharedResponses checks that the answers Server builds once are among
// SharedResponses, as the very pointers it returns, and that an answer
// built for its call is not.
func TestSharedResponses(t *testing.T) {
	shared := map[proto.Message]bool{}
	for _, m := range service.SharedResponses() {
		shared[m] = true
	}
	s := service.New()
	ctx := t.Context()
	check := func(what string, resp proto.Message, err error, want bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if shared[resp] != want {
			t.Errorf("%s: answer in SharedResponses() = %v; want %v", what, shared[resp], want)
		}
	}
	list, err := s.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{})
	check("ListStatuses", list, err, true)
	for _, e := range service.Entries() {
		resp, err := s.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: e.TMDBCode()})
		check(fmt.Sprintf("Lookup(%d)", e.TMDBCode()), resp, err, true)
		tr, err := s.Translate(ctx, &tmdbstatusv1.TranslateRequest{StatusCode: e.TMDBCode()})
		check(fmt.Sprintf("Translate(status_code %d)", e.TMDBCode()), tr, err, true)
	}
	for _, h := range []int32{200, 204, 404, 429, 503, 599} {
		tr, err := s.Translate(ctx, &tmdbstatusv1.TranslateRequest{HttpStatus: h})
		check(fmt.Sprintf("Translate(http_status %d)", h), tr, err, true)
	}
	tr, err := s.Translate(ctx, &tmdbstatusv1.TranslateRequest{StatusCode: 34, StatusMessage: "gone"})
	check("Translate(status_code 34, a message of its own)", tr, err, false)
}
