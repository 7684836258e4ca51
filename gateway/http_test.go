package gateway_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/grpclog"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestHead checks that HEAD on every GET route answers the GET's status
// and headers, Content-Length included, and no body; and on a POST route,
// 405 like GET.
func TestHead(t *testing.T) {
	ts := newServer(t)
	for _, path := range []string{"/v1/statuses/7", "/v1/statuses", "/v1/statuses/99", "/v1/statuses/abc", "/v1/nope", translatePath} {
		getCode, getHeader, getBody := doHeader(t, ts, http.MethodGet, path, nil, nil)
		code, header, body := doHeader(t, ts, http.MethodHead, path, nil, nil)
		what := "HEAD " + path
		if code != getCode || len(body) != 0 {
			t.Errorf("%s = %d with %d bytes; want %d, as GET, and no body", what, code, len(body), getCode)
		}
		if got, want := header.Get("Content-Length"), strconv.Itoa(len(getBody)); got != want {
			t.Errorf("%s: Content-Length = %q; want %q, the GET's length", what, got, want)
		}
		for _, h := range []string{"Content-Type", "ETag", "Cache-Control", "Allow", "X-Content-Type-Options"} {
			if got, want := header.Get(h), getHeader.Get(h); got != want {
				t.Errorf("%s: %s = %q; want %q, as GET", what, h, got, want)
			}
		}
	}
}

// TestCaching checks the ETag and Cache-Control of Lookup and ListStatuses:
// a strong tag of the content, different for each entry, the same in
// another handler (another process of the build), and none on errors.
func TestCaching(t *testing.T) {
	ts, other := newServer(t), newServer(t)
	tags := map[string]string{}
	paths := []string{"/v1/statuses"}
	for _, e := range service.Entries() {
		paths = append(paths, fmt.Sprintf("/v1/statuses/%d", e.TMDBCode()))
	}
	for _, path := range paths {
		code, header, _ := doHeader(t, ts, http.MethodGet, path, nil, nil)
		etag := header.Get("ETag")
		if code != http.StatusOK || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
			t.Errorf("GET %s = %d, ETag %q; want 200 with a strong ETag", path, code, etag)
		}
		if got := header.Get("Cache-Control"); got != gateway.CacheControl {
			t.Errorf("GET %s: Cache-Control = %q; want %q", path, got, gateway.CacheControl)
		}
		if prev, ok := tags[etag]; ok {
			t.Errorf("GET %s and GET %s have the same ETag %s; want one per content", path, prev, etag)
		}
		tags[etag] = path
		if _, h, _ := doHeader(t, other, http.MethodGet, path, nil, nil); h.Get("ETag") != etag {
			t.Errorf("GET %s: ETag %s in one handler, %s in another; want the same", path, etag, h.Get("ETag"))
		}
	}
	// Translate's answers are not cached: POST, and each its own.
	_, header, _ := do(t, ts, http.MethodPost, translatePath, "application/json", strings.NewReader(tmdbInvalidKey))
	if header.Get("ETag") != "" || header.Get("Cache-Control") != "" {
		t.Errorf("POST %s: ETag %q, Cache-Control %q; want neither", translatePath, header.Get("ETag"), header.Get("Cache-Control"))
	}
}

// TestIfNoneMatch checks the conditional GET and HEAD of a cached answer:
// 304 without a body when If-None-Match matches its ETag, the answer
// otherwise.
func TestIfNoneMatch(t *testing.T) {
	ts := newServer(t)
	const path = "/v1/statuses/7"
	_, header, _ := doHeader(t, ts, http.MethodGet, path, nil, nil)
	etag := header.Get("ETag")
	_, other, _ := doHeader(t, ts, http.MethodGet, "/v1/statuses/34", nil, nil)
	tests := []struct {
		ifNoneMatch []string
		want        int
	}{
		{[]string{etag}, http.StatusNotModified},
		{[]string{"W/" + etag}, http.StatusNotModified}, // Weak comparison.
		{[]string{"*"}, http.StatusNotModified},
		{[]string{`"a", ` + etag + `, "b"`}, http.StatusNotModified},
		{[]string{`"a"`, etag}, http.StatusNotModified}, // Two header lines.
		{[]string{`garbage, ` + etag}, http.StatusNotModified},
		{[]string{other.Get("ETag")}, http.StatusOK},
		{[]string{`"a", "b"`}, http.StatusOK},
		{[]string{strings.Trim(etag, `"`)}, http.StatusOK}, // Not quoted: not an entity tag.
		{[]string{""}, http.StatusOK},
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, tt := range tests {
			what := fmt.Sprintf("%s %s (If-None-Match %q)", method, path, tt.ifNoneMatch)
			code, h, body := doHeader(t, ts, method, path, http.Header{"If-None-Match": tt.ifNoneMatch}, nil)
			if code != tt.want {
				t.Errorf("%s = %d; want %d", what, code, tt.want)
				continue
			}
			if code != http.StatusNotModified {
				continue
			}
			if len(body) != 0 || h.Get("Content-Type") != "" || h.Get("Content-Length") != "" {
				t.Errorf("%s: body %q, Content-Type %q, Content-Length %q; want none", what, body, h.Get("Content-Type"), h.Get("Content-Length"))
			}
			if h.Get("ETag") != etag || h.Get("Cache-Control") != gateway.CacheControl {
				t.Errorf("%s: ETag %q, Cache-Control %q; want the 200's, %q and %q", what, h.Get("ETag"), h.Get("Cache-Control"), etag, gateway.CacheControl)
			}
		}
	}
	// An error has no representation to match, even with "*".
	if code, _, _ := doHeader(t, ts, http.MethodGet, "/v1/statuses/99", http.Header{"If-None-Match": {"*"}}, nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/statuses/99 (If-None-Match *) = %d; want 404", code)
	}
}

// TestOptions checks that OPTIONS on a route answers 204 with Allow, and
// on a path with no route 404.
func TestOptions(t *testing.T) {
	ts := newServer(t)
	for path, allow := range map[string]string{
		"/v1/statuses/7": "GET, HEAD, OPTIONS", "/v1/statuses": "GET, HEAD, OPTIONS", translatePath: "POST, OPTIONS",
	} {
		code, header, body := doHeader(t, ts, http.MethodOptions, path, nil, nil)
		if code != http.StatusNoContent || header.Get("Allow") != allow || len(body) != 0 {
			t.Errorf("OPTIONS %s = %d %q, Allow %q; want 204, no body, Allow %q", path, code, body, header.Get("Allow"), allow)
		}
	}
	code, header, body := doHeader(t, ts, http.MethodOptions, "/v1/nope", nil, nil)
	checkError(t, "OPTIONS /v1/nope", code, header, body, routeNotFound)
}

// TestNosniff checks X-Content-Type-Options on answers of every kind.
func TestNosniff(t *testing.T) {
	ts := newServer(t)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v1/statuses/7"}, {http.MethodGet, "/v1/nope"}, {http.MethodOptions, "/v1/statuses"},
		{http.MethodPost, translatePath}, {http.MethodDelete, translatePath},
	} {
		_, header, _ := do(t, ts, r.method, r.path, "application/json", strings.NewReader(tmdbInvalidKey))
		if got := header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options = %q; want nosniff", r.method, r.path, got)
		}
	}
}

// TestQuery checks query parameters: Translate's http_status and
// retry_after beside the body (the body's fields win), and any other
// parameter, on every route, a MALFORMED_REQUEST naming it.
func TestQuery(t *testing.T) {
	ts := newServer(t)
	tmdbLimit := `{"success":false,"status_code":25,"status_message":"Your request count (#) is over the allowed limit of (40)."}`
	for _, tt := range []struct {
		query, body  string
		wantCode     codes.Code
		wantRetry    string // The RetryInfo delay, "" for none, "*" for any.
		wantHTTPMeta string // ErrorInfo metadata httpStatus, "" for any.
	}{
		{"?http_status=429&retry_after=10", tmdbLimit, codes.ResourceExhausted, "10s", "429"},
		{"?httpStatus=429&retryAfter=10", tmdbLimit, codes.ResourceExhausted, "10s", "429"},            // JSON names, as in a body.
		{"?retry_after=10", `{"status_code":25,"retry_after":"3"}`, codes.ResourceExhausted, "3s", ""}, // The body wins.
		{"?http_status=503", "", codes.Unavailable, "*", "503"},                                        // No body at all.
		{"?http_status=404", `{"http_status":401}`, codes.Unauthenticated, "", "401"},
	} {
		what := "POST " + translatePath + tt.query + " " + tt.body
		code, _, body := do(t, ts, http.MethodPost, translatePath+tt.query, "", strings.NewReader(tt.body))
		var resp tmdbstatusv1.TranslateResponse
		if code != http.StatusOK {
			t.Errorf("%s = %d %s; want 200", what, code, body)
			continue
		}
		unmarshal(t, what, body, &resp)
		st := resp.GetStatus()
		if codes.Code(st.GetCode()) != tt.wantCode {
			t.Errorf("%s: status %v; want code %v", what, st, tt.wantCode)
		}
		if got := retryDelay(t, body); got != tt.wantRetry && tt.wantRetry != "*" {
			t.Errorf("%s: retryDelay %q; want %q", what, got, tt.wantRetry)
		}
		if tt.wantHTTPMeta != "" {
			if got := errorInfo(t, what, st).GetMetadata()["httpStatus"]; got != tt.wantHTTPMeta {
				t.Errorf("%s: ErrorInfo httpStatus %q; want %q", what, got, tt.wantHTTPMeta)
			}
		}
	}

	long := strings.Repeat("x", 5000)
	for _, tt := range []struct {
		method, path string
		want         wantError
	}{
		{http.MethodGet, "/v1/statuses/7?code=8", malformed(`unknown query parameter "code": GET /v1/statuses/{code} takes no query parameter`, map[string]string{"parameter": "code"}, "")},
		{http.MethodGet, "/v1/statuses?page=2", malformed(`unknown query parameter "page": GET /v1/statuses takes no query parameter`, map[string]string{"parameter": "page"}, "")},
		{http.MethodHead, "/v1/statuses?page=2", wantError{http: http.StatusBadRequest}},
		{http.MethodPost, translatePath + "?http_status=429&status_code=25", malformed(`unknown query parameter "status_code": POST /v1/statuses:translate takes only http_status and retry_after`, map[string]string{"parameter": "status_code"}, "")},
		{http.MethodPost, translatePath + "?http_status=many", malformed(`query parameter http_status: invalid value for http_status (int32)`, map[string]string{"parameter": "http_status"}, "http_status")},
		{http.MethodPost, translatePath + "?http_status=1&http_status=2", malformed(`query parameter http_status is given 2 times; want once`, map[string]string{"parameter": "http_status"}, "http_status")},
		{http.MethodPost, translatePath + "?http_status=%zz", malformed(`the query string is not well formed`, map[string]string{}, "")},
		{http.MethodGet, "/v1/statuses?" + long, malformed(`unknown query parameter "`+long[:64]+`...": GET /v1/statuses takes no query parameter`, map[string]string{"parameter": long[:64] + "..."}, "")},
	} {
		what := tt.method + " " + tt.path
		code, header, body := do(t, ts, tt.method, tt.path, "application/json", strings.NewReader(tmdbInvalidKey))
		if tt.method == http.MethodHead {
			if code != tt.want.http {
				t.Errorf("%s = %d; want %d", what, code, tt.want.http)
			}
			continue
		}
		checkError(t, what, code, header, body, tt.want)
	}
}

// retryDelay returns the retryDelay of the RetryInfo in the JSON of a
// TranslateResponse, or "".
func retryDelay(t *testing.T, body []byte) string {
	t.Helper()
	i := bytes.Index(body, []byte(`"retryDelay":"`))
	if i < 0 {
		return ""
	}
	rest := body[i+len(`"retryDelay":"`):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

// grpclogRecorder is a grpclog.LoggerV2 that keeps every line.
type grpclogRecorder struct {
	grpclog.LoggerV2
	mu    sync.Mutex
	lines []string
}

func (g *grpclogRecorder) record(args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lines = append(g.lines, fmt.Sprint(args...))
}

func (g *grpclogRecorder) Info(args ...any)                 { g.record(args...) }
func (g *grpclogRecorder) Infof(format string, args ...any) { g.record(fmt.Sprintf(format, args...)) }
func (g *grpclogRecorder) Warning(args ...any)              { g.record(args...) }
func (g *grpclogRecorder) Warningf(format string, args ...any) {
	g.record(fmt.Sprintf(format, args...))
}
func (g *grpclogRecorder) Error(args ...any)                 { g.record(args...) }
func (g *grpclogRecorder) Errorf(format string, args ...any) { g.record(fmt.Sprintf(format, args...)) }
func (g *grpclogRecorder) V(int) bool                        { return true }

// TestNoLogFromClients checks that nothing a client sends makes
// grpc-gateway log: a malformed Content-Type, headers that are not valid
// gRPC metadata.
func TestNoLogFromClients(t *testing.T) {
	rec := &grpclogRecorder{LoggerV2: grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard)}
	grpclog.SetLoggerV2(rec)
	t.Cleanup(func() { grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard)) })
	ts := newServer(t)
	for _, h := range []http.Header{
		{"Content-Type": {"application/json; charset"}},
		{"Content-Type": {"text/html;;"}},
		{"Content-Type": {"application/json", "a b"}},
		{"User-Agent": {"caf\u00e9"}},
		{"Grpc-Metadata-X-Bin": {"!!"}},
		{"Accept": {"\u00e9/\u00e9"}},
	} {
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/v1/statuses/7"}, {http.MethodPost, translatePath}, {http.MethodGet, "/v1/nope"}, {http.MethodPut, translatePath},
		} {
			doHeader(t, ts, r.method, r.path, h, strings.NewReader(tmdbInvalidKey))
		}
	}
	// Sanity check: a malformed Content-Type still decides the answer.
	code, header, body := doHeader(t, ts, http.MethodPost, translatePath, http.Header{"Content-Type": {"text/html;;"}}, strings.NewReader(tmdbInvalidKey))
	checkError(t, "POST text/html;;", code, header, body, unsupportedType("text/html;;"))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines) > 0 {
		t.Errorf("grpc-gateway logged %d lines for requests of clients; want none: %q", len(rec.lines), rec.lines)
	}
}

// TestStalledBody checks that a body that stalls past the server's read
// timeout is answered 408, without saying where (no socket address).
func TestStalledBody(t *testing.T) {
	ts := newUnstartedServer(t)
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Start()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "POST " + translatePath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status_code\":"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || bytes.Contains(body, []byte("127.0.0.1")) || bytes.Contains(body, []byte("tcp")) {
		t.Errorf("a stalled body = %d %s; want 408 without addresses", resp.StatusCode, body)
	}
}

// newUnstartedServer is newServer, not started yet.
func newUnstartedServer(t *testing.T, opts ...gateway.Option) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(gateway.New(service.New(), opts...))
	t.Cleanup(ts.Close)
	return ts
}

// TestMiddlewaresGetTheWriter checks that a middleware of WithMiddlewares
// gets the ResponseWriter the handler was given, as an observer that wraps
// the handler and labels its answer from a middleware needs.
func TestMiddlewaresGetTheWriter(t *testing.T) {
	type marked struct{ http.ResponseWriter }
	var got http.ResponseWriter
	h := gateway.New(service.New(), gateway.WithMiddlewares(func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
			got = w
			next(w, r, pathParams)
		}
	}))
	for _, path := range []string{"/v1/statuses/7", "/v1/statuses/99"} {
		got = nil
		w := &marked{httptest.NewRecorder()}
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if got != w {
			t.Errorf("GET %s: the middleware got the ResponseWriter %T; want the handler's, %T", path, got, w)
		}
	}
}
