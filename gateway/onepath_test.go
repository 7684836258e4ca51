package gateway

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
	"github.com/tmdbstatus/tmdbstatus/service"
)

// stockHandler is the handler with grpc-gateway's own JSONPb marshaler
// (same options) in place of the gateway's: no JSON kept, the two-pass
// decoder.
func stockHandler(srv tmdbstatusv1.StatusServiceServer) http.Handler {
	m := newMarshaler()
	return newHandler(srv, &m.JSONPb, m.shared, config{maxBodyBytes: DefaultMaxBodyBytes})
}

// TestMarshalOnceEqualsJSONPb checks that the answers written from the
// JSON marshalled at start-up, and the requests read by the single-pass
// decoder, give byte for byte what grpc-gateway's JSONPb gives, status and
// headers included, over a real connection.
func TestMarshalOnceEqualsJSONPb(t *testing.T) {
	one := httptest.NewServer(New(service.New()))
	defer one.Close()
	stock := httptest.NewServer(stockHandler(service.New()))
	defer stock.Close()

	type request struct{ method, path, body string }
	const translate = "/v1/statuses:translate"
	reqs := []request{
		{http.MethodGet, "/v1/statuses", ""},
		{http.MethodGet, "/v1/statuses/99", ""},
		{http.MethodGet, "/v1/statuses/0", ""},
		{http.MethodGet, "/v1/statuses/07", ""},
		{http.MethodGet, "/v1/statuses/%37", ""},
		{http.MethodGet, "/v1/statuses/7?code=8", ""},
		{http.MethodPost, translate, "  \n{\"statusCode\": 34}\r\n\t"},
		{http.MethodPost, translate, `{"status_code": 34} {"status_code": 7}`},
		{http.MethodPost, translate, `{"status_code": 34} garbage`},
		{http.MethodPost, translate, `{"status_code": "34"}`},
		{http.MethodPost, translate, `{"status_code": 34, "unknown": [1, 2]}`},
		{http.MethodPost, translate, `{}`},
		{http.MethodPost, translate, ``},
		{http.MethodPost, translate, `{"http_status": 700}`},
		{http.MethodPost, translate, `{"httpStatus":404,"body":"{\"success\":false,\"status_code\":34}"}`},
		{http.MethodPost, translate, `{"status_code": 22, "errors": ["page must be less than or equal to 500"]}`},
		{http.MethodPost, translate, `{"status_code": 9, "retry_after": "5"}`},
		{http.MethodPost, translate, `{"http_status": 503, "retry_after": "7"}`},
		{http.MethodPost, translate, `{"http_status": 204}`},
	}
	for _, e := range service.Entries() {
		reqs = append(reqs,
			request{http.MethodGet, fmt.Sprintf("/v1/statuses/%d", e.TMDBCode()), ""},
			request{http.MethodPost, translate, fmt.Sprintf(`{"status_code": %d}`, e.TMDBCode())})
	}
	for h := 100; h <= 599; h += 7 {
		reqs = append(reqs, request{http.MethodPost, translate, fmt.Sprintf(`{"http_status": %d}`, h)})
	}
	do := func(base string, rq request) string {
		t.Helper()
		r, err := http.NewRequest(rq.method, base+rq.path, strings.NewReader(rq.body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
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
		return fmt.Sprintf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	for _, rq := range reqs {
		if got, want := do(one.URL, rq), do(stock.URL, rq); got != want {
			t.Errorf("%s %s %q:\ngateway: %s\nJSONPb:  %s", rq.method, rq.path, rq.body, got, want)
		}
	}
}

// TestSharedJSON checks that the marshaler holds the JSON of every shared
// response, as JSONPb marshals it, and marshals any other message afresh.
func TestSharedJSON(t *testing.T) {
	m := newMarshaler()
	for _, resp := range service.SharedResponses() {
		want, err := m.JSONPb.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := m.shared[resp]; !ok || string(got.json) != string(want) {
			t.Errorf("shared JSON of %v = %s, %v; want %s", resp, got, ok, want)
		}
	}
	entry := proto.Clone(service.SharedResponses()[0])
	if _, ok := m.shared[entry]; ok {
		t.Errorf("a copy of a shared response is in the map; want only the shared pointers")
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

// TestServesAnyServer checks that a server wrapping the service is called
// once per request, failing or not, and that a server whose answers
// change gets each call's own answer written.
func TestServesAnyServer(t *testing.T) {
	do := func(h http.Handler, method, path, body string) string {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	srv := &countingServer{Server: service.New()}
	h := New(srv)
	for i := range 3 {
		do(h, http.MethodGet, "/v1/statuses/7", "")
		do(h, http.MethodGet, "/v1/statuses/99", "")
		do(h, http.MethodPost, "/v1/statuses:translate", `{"status_code":25,"retry_after":"3"}`)
		do(h, http.MethodPost, "/v1/statuses:translate", `{"http_status":700}`)
		if got, want := srv.lookups.Load(), int64(2*(i+1)); got != want {
			t.Errorf("after %d rounds, Lookup called %d times; want %d", i+1, got, want)
		}
		if got, want := srv.translates.Load(), int64(2*(i+1)); got != want {
			t.Errorf("after %d rounds, Translate called %d times; want %d", i+1, got, want)
		}
	}
	fresh := New(&countingServer{Server: service.New(), fresh: true})
	for _, path := range []string{"/v1/statuses/7", "/v1/statuses/99"} {
		if first, second := do(fresh, http.MethodGet, path, ""), do(fresh, http.MethodGet, path, ""); first == second {
			t.Errorf("GET %s twice = %s both times; want each call's own answer", path, first)
		}
	}
}

// TestReadsWhatArrives checks that a body announcing more bytes than it
// sends costs what it sends, not what it announces.
func TestReadsWhatArrives(t *testing.T) {
	h := New(service.New())
	req := httptest.NewRequest(http.MethodPost, "/v1/statuses:translate", strings.NewReader(`{"status_code":7}`))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = DefaultMaxBodyBytes
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before := m.TotalAlloc
	req.Body = io.NopCloser(strings.NewReader(`{"status_code":7}`))
	h.ServeHTTP(httptest.NewRecorder(), req)
	runtime.ReadMemStats(&m)
	if grew := m.TotalAlloc - before; grew > 1<<20 {
		t.Errorf("a 17-byte body announcing %d bytes allocated %d bytes; want far less than announced", req.ContentLength, grew)
	}
}

// TestDecoderOnePass checks that a body that decodes is unmarshalled once
// from the bytes read before the mux, and that one that does not leaves its
// status on the body for errorHandler.
func TestDecoderOnePass(t *testing.T) {
	m := newMarshaler()
	body := newRequestBody([]byte(`{"statusCode": 7}`), "")
	var req tmdbstatusv1.TranslateRequest
	if err := m.NewDecoder(body).Decode(&req); err != nil || req.GetStatusCode() != 7 || body.fault != nil {
		t.Errorf("Decode(statusCode 7) = %v, %v, fault %v; want nil, 7, nil", err, &req, body.fault)
	}
	if body.Len() != len(body.data) {
		t.Errorf("the decoder read the body's reader; want it to take its bytes")
	}
	bad := newRequestBody([]byte(`{"errors": "x"}`), "")
	err := m.NewDecoder(bad).Decode(&req)
	if err == nil || bad.fault == nil || !strings.Contains(bad.fault.Message(), "errors (repeated string)") {
		t.Errorf("Decode(errors: string) = %v, fault %v; want an error naming errors", err, bad.fault)
	}
	if err := m.NewDecoder(newRequestBody([]byte(" \n"), "")).Decode(&req); err != io.EOF {
		t.Errorf("Decode(whitespace) = %v; want io.EOF", err)
	}
}
