package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestFastPathEqualsGateway checks that the answers the gateway writes on
// its fast path, from its caches, are byte for byte those grpc-gateway
// writes, status and headers included, over a real connection; each request
// is sent twice, to see both a recorded answer and its replay.
func TestFastPathEqualsGateway(t *testing.T) {
	cached := httptest.NewServer(gateway.New(service.New()))
	defer cached.Close()
	plain := httptest.NewServer(gateway.NewGRPCGatewayOnly(service.New()))
	defer plain.Close()

	type request struct {
		method, path, body string
		header             map[string]string
		chunked            bool
	}
	const translate = "/v1/statuses:translate"
	json := map[string]string{"Content-Type": "application/json"}
	reqs := []request{
		{method: http.MethodGet, path: "/v1/statuses"},
		{method: http.MethodGet, path: "/v1/statuses/99"},
		{method: http.MethodGet, path: "/v1/statuses/0"},
		{method: http.MethodGet, path: "/v1/statuses/07"},
		{method: http.MethodGet, path: "/v1/statuses/%37"},
		{method: http.MethodGet, path: "/v1/statuses/7?code=8"},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"TE": "trailers"}},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"Grpc-Timeout": "bad"}},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"Grpc-Timeout": "1S"}},
		{method: http.MethodGet, path: "/v1/statuses/7", body: `{}`},
		{method: http.MethodHead, path: "/v1/statuses/7"},
		{method: http.MethodPost, path: "/v1/statuses/7"},
		{method: http.MethodGet, path: "/v1/statuses/"},
		{method: http.MethodGet, path: "/v1/statuses/123"},
		{method: http.MethodGet, path: "/v1/statuses/1234"},
		{method: http.MethodGet, path: "/v1/statuses/12345"},
		{method: http.MethodGet, path: "/v1/statuses/-1"},
		{method: http.MethodGet, path: "/v1/statuses/abc"},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"Accept": "text/html"}},
		{method: http.MethodGet, path: "/v1/statuses/7", body: "x", chunked: true},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: json},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Content-Type": "text/plain"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, chunked: true},
		{method: http.MethodPost, path: translate, body: "  \n{\"statusCode\": 34}\r\n\t"},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34} {"status_code": 7}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34} garbage`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34`},
		{method: http.MethodPost, path: translate, body: `{"status_code": "34"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": "x"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34, "unknown": [1, 2]}`},
		{method: http.MethodPost, path: translate, body: `[]`},
		{method: http.MethodPost, path: translate, body: `null`},
		{method: http.MethodPost, path: translate, body: `{}`},
		{method: http.MethodPost, path: translate, body: ``},
		{method: http.MethodPost, path: translate, body: `{"http_status": 700}`},
		{method: http.MethodPost, path: translate, body: `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`},
		{method: http.MethodPost, path: translate, body: `{"httpStatus":404,"body":"{\"success\":false,\"status_code\":34}"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 22, "errors": ["page must be less than or equal to 500"]}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": "5"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": " 5"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": "99999999999"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}`},
		{method: http.MethodPost, path: translate, body: `{"http_status": 503, "retry_after": "7"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 99, "http_status": 503, "retry_after": "7", "success": true}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Grpc-Timeout": "bad"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"TE": "trailers"}},
		{method: http.MethodPost, path: translate + "?x=1", body: `{"status_code": 34}`},
		{method: http.MethodPut, path: translate, body: `{"status_code": 34}`},
		{method: http.MethodPost, path: "/v1/statuses:translate", body: `{"http_status": 503}`},
		{method: http.MethodPost, path: "/v1/statuses:translate", body: `{"status_code": 25, "http_status": 429, "retry_after": "10"}`},
	}
	for _, e := range service.Entries() {
		reqs = append(reqs,
			request{method: http.MethodGet, path: fmt.Sprintf("/v1/statuses/%d", e.TMDBCode())},
			request{method: http.MethodPost, path: "/v1/statuses:translate", body: fmt.Sprintf(`{"status_code": %d}`, e.TMDBCode())})
	}
	do := func(base string, rq request) string {
		t.Helper()
		var in io.Reader = strings.NewReader(rq.body)
		if rq.chunked {
			in = io.MultiReader(in) // No known length: sent chunked.
		}
		r, err := http.NewRequest(rq.method, base+rq.path, in)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range rq.header {
			r.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Header.Del("Date")
		return fmt.Sprintf("%d %v %v %s", resp.StatusCode, resp.Header, resp.TransferEncoding, body)
	}
	for _, rq := range reqs {
		want := do(plain.URL, rq)
		for range 2 {
			if got := do(cached.URL, rq); got != want {
				t.Errorf("%s %s %v %q:\ncached: %s\nplain:  %s", rq.method, rq.path, rq.header, rq.body, got, want)
				break
			}
		}
	}
}

// countingServer wraps the service, counts its calls and, when fresh is
// set, answers Lookup with a new message and error each time, as a server
// that is not the service's own may.
type countingServer struct {
	*service.Server
	lookups, translates atomic.Int64
	fresh               bool
}

func (s *countingServer) Lookup(ctx context.Context, req *tmdbstatusv1.LookupRequest) (*tmdbstatusv1.LookupResponse, error) {
	n := s.lookups.Add(1)
	resp, err := s.Server.Lookup(ctx, req)
	if s.fresh {
		if err != nil {
			return nil, status.Errorf(codes.NotFound, "call %d", n)
		}
		resp = proto.Clone(resp).(*tmdbstatusv1.LookupResponse)
		resp.Entry.Message = fmt.Sprintf("call %d", n)
	}
	return resp, err
}

func (s *countingServer) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest) (*tmdbstatusv1.TranslateResponse, error) {
	s.translates.Add(1)
	return s.Server.Translate(ctx, req)
}

// TestFastPathServesAnyServer checks that a server wrapping the service
// gets the fast path too, is called once per request, and that answers
// are never replayed for a server whose answers change.
func TestFastPathServesAnyServer(t *testing.T) {
	srv := &countingServer{Server: service.New()}
	h := gateway.New(srv)
	if !gateway.IsFastPath(h) {
		t.Fatalf("New(a wrapping server) is not the fast path")
	}
	do := func(h http.Handler, method, path, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for i := range 3 {
		do(h, http.MethodGet, "/v1/statuses/7", "")
		do(h, http.MethodGet, "/v1/statuses/99", "")
		do(h, http.MethodPost, "/v1/statuses:translate", `{"status_code":25,"retry_after":"3"}`)
		// A recorded error answer is made by calling the server once more,
		// the first time only.
		if got, want := srv.lookups.Load(), int64(2*(i+1)+1); got != want {
			t.Errorf("after %d rounds, Lookup called %d times; want %d", i+1, got, want)
		}
		if got, want := srv.translates.Load(), int64(i+1); got != want {
			t.Errorf("after %d rounds, Translate called %d times; want %d", i+1, got, want)
		}
	}

	fresh := gateway.New(&countingServer{Server: service.New(), fresh: true})
	for _, path := range []string{"/v1/statuses/7", "/v1/statuses/99"} {
		_, first := do(fresh, http.MethodGet, path, "")
		_, second := do(fresh, http.MethodGet, path, "")
		if first == second {
			t.Errorf("GET %s twice = %s both times; want each call's own answer", path, first)
		}
	}
}

// TestFastPathReadsWhatArrives checks that a body announcing more bytes
// than it sends costs what it sends, not what it announces.
func TestFastPathReadsWhatArrives(t *testing.T) {
	h := gateway.New(service.New())
	req := httptest.NewRequest(http.MethodPost, "/v1/statuses:translate", strings.NewReader(`{"status_code":7}`))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = gateway.DefaultMaxBodyBytes
	allocs := testing.AllocsPerRun(10, func() {
		req.Body = io.NopCloser(strings.NewReader(`{"status_code":7}`))
		h.ServeHTTP(httptest.NewRecorder(), req)
	})
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before := m.TotalAlloc
	req.Body = io.NopCloser(strings.NewReader(`{"status_code":7}`))
	h.ServeHTTP(httptest.NewRecorder(), req)
	runtime.ReadMemStats(&m)
	if grew := m.TotalAlloc - before; grew > 1<<20 {
		t.Errorf("a 17-byte body announcing %d bytes allocated %d bytes (%v allocs); want far less than announced", req.ContentLength, grew, allocs)
	}
}

// pureCountingServer is countingServer declared pure: its answers are the
// service's.
type pureCountingServer struct{ countingServer }

func (*pureCountingServer) PureAnswers() {}

// TestFastPathKeepsPureTranslations checks that for a pure server the JSON
// of small translations is reused, that the server is still called for
// every request (so that what it observes, such as a translation count,
// stays true), and that the answers are those grpc-gateway writes.
func TestFastPathKeepsPureTranslations(t *testing.T) {
	srv := &pureCountingServer{countingServer{Server: service.New()}}
	var _ gateway.PureServer = srv
	h := gateway.New(srv)
	ref := gateway.NewGRPCGatewayOnly(service.New())
	for _, body := range []string{`{"status_code":25,"retry_after":"10"}`, `{"http_status":503,"retry_after":"2"}`, `{"status_code":7}`} {
		want := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/statuses:translate", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		ref.ServeHTTP(want, req)
		for range 3 {
			got := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/statuses:translate", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(got, req)
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("POST %s = %d %s; want %d %s", body, got.Code, got.Body, want.Code, want.Body)
			}
		}
	}
	if got := srv.translates.Load(); got != 9 {
		t.Errorf("the pure server was called %d times for 9 requests; want 9", got)
	}
}
