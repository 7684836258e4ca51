package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/http2"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/gen/openapiv2"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// testServer is serve running on loopback listeners.
type testServer struct {
	GRPCAddr, HTTPAddr, AdminAddr string
	log                           *testutil.SyncBuffer
	cancel                        context.CancelFunc
	done                          <-chan error
}

// startServeWith runs serve with cfg and o (whose listeners and logger it
// sets; an admin listener if withAdmin) until the returned server's cancel
// is called.
func startServeWith(t *testing.T, cfg Config, o serveOptions, withAdmin bool) *testServer {
	t.Helper()
	s := &testServer{log: new(testutil.SyncBuffer)}
	o.grpcLis, o.httpLis = testutil.Listen(t), testutil.Listen(t)
	s.GRPCAddr, s.HTTPAddr = o.grpcLis.Addr().String(), o.httpLis.Addr().String()
	if withAdmin {
		o.adminLis = testutil.Listen(t)
		s.AdminAddr = o.adminLis.Addr().String()
	}
	if o.logger == nil {
		o.logger = newLogger(s.log, cfg.LogFormat, cfg.LogLevel)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	errc := make(chan error, 1)
	s.done = errc
	finished := make(chan struct{})
	go func() {
		errc <- serve(ctx, cfg, o)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(testutil.WaitTimeout + cfg.ShutdownDelay):
			t.Errorf("serve still running %v after cancel", testutil.WaitTimeout)
		}
	})
	return s
}

// get sends a GET to url and returns the status code and body.
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	return do(t, client, http.MethodGet, url, "", nil)
}

// do sends a request and returns the status code and body of the response.
func do(t *testing.T, client *http.Client, method, url, body string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testutil.Context(t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, url, err)
	}
	maps.Copy(req.Header, header)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, string(b)
}

// scrape reads the metrics at url.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, http.DefaultClient, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s; want 200", url, code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse the metrics of %s: %v", url, err)
	}
	return fams
}

// sample returns the value of the counter, or the sample count of the
// histogram, name with exactly labels, and whether it is there.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, labels) {
			continue
		}
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount()), true
		}
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

// TestMetrics sends traffic over both transports and checks that the
// counters of /metrics moved by as much, on the HTTP port or on the admin
// port.
func TestMetrics(t *testing.T) {
	t.Parallel()
	for _, withAdmin := range []bool{false, true} {
		t.Run(fmt.Sprintf("admin=%v", withAdmin), func(t *testing.T) {
			s := startServeWith(t, DefaultConfig(), serveOptions{}, withAdmin)
			metricsURL := "http://" + s.HTTPAddr + "/metrics"
			if withAdmin {
				metricsURL = "http://" + s.AdminAddr + "/metrics"
				// Not on the gateway's port, whose API has no such route.
				if code, _ := get(t, http.DefaultClient, "http://"+s.HTTPAddr+"/metrics"); code != http.StatusNotFound {
					t.Errorf("GET /metrics on the HTTP port with an admin port = %d; want 404", code)
				}
				if code, body := get(t, http.DefaultClient, "http://"+s.AdminAddr+"/readyz"); code != http.StatusOK {
					t.Errorf("GET /readyz on the admin port = %d %s; want 200", code, body)
				}
			}
			before := scrape(t, metricsURL)
			// Every row of the table is there at zero before any traffic.
			if v, ok := sample(before, "tmdbstatus_translations_total", map[string]string{"tmdb_code": "25", "grpc_code": "ResourceExhausted"}); !ok || v != 0 {
				t.Errorf("tmdbstatus_translations_total{tmdb_code=25} before traffic = %v, %v; want 0, true", v, ok)
			}

			client := tmdbstatusv1.NewStatusServiceClient(testutil.Dial(t, s.GRPCAddr))
			ctx := testutil.Context(t)
			for range 3 { // Code 25 over gRPC.
				if _, err := client.Translate(ctx, &tmdbstatusv1.TranslateRequest{StatusCode: 25, HttpStatus: 429}); err != nil {
					t.Fatalf("Translate(25): %v", err)
				}
			}
			if _, err := client.Translate(ctx, &tmdbstatusv1.TranslateRequest{HttpStatus: 502}); err != nil {
				t.Fatalf("Translate(http 502): %v", err)
			}
			if _, err := client.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 99}); status.Code(err) != codes.NotFound {
				t.Fatalf("Lookup(99) = %v; want NotFound", err)
			}
			base := "http://" + s.HTTPAddr
			for range 2 { // Code 34 over REST.
				if code, body := do(t, http.DefaultClient, http.MethodPost, base+"/v1/statuses:translate", `{"status_code":34}`, nil); code != http.StatusOK {
					t.Fatalf("POST /v1/statuses:translate = %d %s; want 200", code, body)
				}
			}
			if code, _ := get(t, http.DefaultClient, base+"/v1/statuses/7"); code != http.StatusOK {
				t.Fatalf("GET /v1/statuses/7 = %d; want 200", code)
			}
			if code, _ := get(t, http.DefaultClient, base+"/v2/nothing"); code != http.StatusNotFound {
				t.Fatalf("GET /v2/nothing = %d; want 404", code)
			}
			if code, _ := do(t, http.DefaultClient, http.MethodPost, base+"/v1/statuses/7", "", nil); code != http.StatusMethodNotAllowed {
				t.Fatalf("POST /v1/statuses/7 = %d; want 405", code)
			}
			// Refused by the gateway's checks, after routing: counted under the route.
			if code, _ := get(t, http.DefaultClient, base+"/v1/statuses/abc"); code != http.StatusBadRequest {
				t.Fatalf("GET /v1/statuses/abc = %d; want 400", code)
			}

			after := scrape(t, metricsURL)
			const svc = "tmdbstatus.v1.StatusService"
			tests := []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"tmdbstatus_translations_total", map[string]string{"tmdb_code": "25", "grpc_code": "ResourceExhausted"}, 3},
				{"tmdbstatus_translations_total", map[string]string{"tmdb_code": "34", "grpc_code": "NotFound"}, 2},
				{"tmdbstatus_translations_total", map[string]string{"tmdb_code": "none", "grpc_code": "Unavailable"}, 1},
				{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "Translate", "grpc_code": "OK"}, 4},
				{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "Lookup", "grpc_code": "NotFound"}, 1},
				{"grpc_server_handling_seconds", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "Translate"}, 4},
				{"http_requests_total", map[string]string{"route": "/v1/statuses:translate", "method": "post", "code": "200"}, 2},
				{"http_requests_total", map[string]string{"route": "/v1/statuses/{code}", "method": "get", "code": "200"}, 1},
				{"http_requests_total", map[string]string{"route": "other", "method": "get", "code": "404"}, 1},
				{"http_request_duration_seconds", map[string]string{"route": "/v1/statuses:translate", "method": "post"}, 2},
				{"http_requests_total", map[string]string{"route": "other", "method": "post", "code": "405"}, 1},
				{"http_requests_total", map[string]string{"route": "/v1/statuses/{code}", "method": "get", "code": "400"}, 1},
			}
			for _, tt := range tests {
				was, _ := sample(before, tt.name, tt.labels)
				now, ok := sample(after, tt.name, tt.labels)
				if !ok || now-was != tt.want {
					t.Errorf("%s%v moved by %v (present: %v); want %v", tt.name, tt.labels, now-was, ok, tt.want)
				}
			}
			for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total"} {
				if _, ok := after[name]; !ok {
					t.Errorf("metrics lack %s", name)
				}
			}
		})
	}
}

// TestPprofOnAdminOnly checks that net/http/pprof is served on the admin
// port, and never on the API's, with or without an admin port.
func TestPprofOnAdminOnly(t *testing.T) {
	t.Parallel()
	for _, withAdmin := range []bool{false, true} {
		s := startServeWith(t, DefaultConfig(), serveOptions{}, withAdmin)
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
			if code, body := get(t, http.DefaultClient, "http://"+s.HTTPAddr+path); code != http.StatusNotFound || !strings.Contains(body, "ROUTE_NOT_FOUND") {
				t.Errorf("admin=%v: GET %s on the API port = %d %.80s; want 404 ROUTE_NOT_FOUND", withAdmin, path, code, body)
			}
			if withAdmin {
				if code, body := get(t, http.DefaultClient, "http://"+s.AdminAddr+path); code != http.StatusOK {
					t.Errorf("GET %s on the admin port = %d %.80s; want 200", path, code, body)
				}
			}
		}
	}
}

// TestHealthDuringShutdown checks that, once shutdown begins, gRPC health
// answers NOT_SERVING (to a new Check and to a Watch in progress), /readyz
// 503 and /healthz still 200, while the servers still take requests for
// --shutdown-delay.
func TestHealthDuringShutdown(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.ShutdownDelay = time.Minute              // The window in which the test looks, which now ends.
	cfg.ShutdownGrace = 2 * testutil.WaitTimeout // Longer than the test waits.
	now := make(chan struct{})
	s := startServeWith(t, cfg, serveOptions{now: now}, true)
	ctx := testutil.Context(t)
	health := healthpb.NewHealthClient(testutil.Dial(t, s.GRPCAddr))
	// A Watch with no deadline: the server must end it to drain in time.
	watchCtx, cancelWatch := context.WithCancel(context.Background())
	defer cancelWatch()
	watch, err := health.Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch: Recv() = %v, %v; want SERVING", resp, err)
	}
	for _, addr := range []string{s.HTTPAddr, s.AdminAddr} {
		if code, _ := get(t, http.DefaultClient, "http://"+addr+"/readyz"); code != http.StatusOK {
			t.Fatalf("GET %s/readyz before shutdown = %d; want 200", addr, code)
		}
	}

	s.cancel()
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("Watch: Recv() after shutdown began = %v, %v; want NOT_SERVING", resp, err)
	}
	// A new connection, during the delay.
	for _, svc := range []string{"", "tmdbstatus.v1.StatusService"} {
		resp, err := healthpb.NewHealthClient(testutil.Dial(t, s.GRPCAddr)).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("Check(%q) during shutdown = %v, %v; want NOT_SERVING", svc, resp, err)
		}
	}
	for _, addr := range []string{s.HTTPAddr, s.AdminAddr} {
		if code, body := get(t, http.DefaultClient, "http://"+addr+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("GET %s/readyz during shutdown = %d %q; want 503", addr, code, body)
		}
		if code, _ := get(t, http.DefaultClient, "http://"+addr+"/healthz"); code != http.StatusOK {
			t.Errorf("GET %s/healthz during shutdown = %d; want 200", addr, code)
		}
	}
	// The API still answers until the delay is over.
	if code, _ := get(t, http.DefaultClient, "http://"+s.HTTPAddr+"/v1/statuses/7"); code != http.StatusOK {
		t.Errorf("GET /v1/statuses/7 during shutdown delay = %d; want 200", code)
	}
	select {
	case err := <-s.done:
		t.Fatalf("serve = %v during the shutdown delay; want it serving", err)
	default:
	}
	close(now) // A second signal: the delay ends, the drain has its grace.
	testutil.WaitDone(t, "serve", s.done)
	if _, err := watch.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("Watch: Recv() after shutdown = %v; want Canceled", err)
	}
}

// TestShutdownFinishesRESTInFlight checks that a REST request in flight
// when shutdown begins, here one whose body is still being sent, is
// answered before the HTTP server stops.
func TestShutdownFinishesRESTInFlight(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.ShutdownDelay = 100 * time.Millisecond // Which ends by itself, and then the drain waits.
	s := startServeWith(t, cfg, serveOptions{}, false)
	conn, err := net.Dial("tcp", s.HTTPAddr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", s.HTTPAddr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testutil.WaitTimeout))
	body := `{"status_code":34}`
	// With Expect: 100-continue, the server says 100 Continue when the
	// handler starts reading the body: the request is then in flight.
	fmt.Fprintf(conn, "POST /v1/statuses:translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("read the interim response: %q, %v; want HTTP/1.1 100 Continue", line, err)
	}
	if _, err := r.ReadString('\n'); err != nil { // The empty line after it.
		t.Fatalf("read the interim response: %v", err)
	}

	s.cancel()
	waitForLog(t, s.log, regexp.MustCompile(`msg="shutting down"`))
	select {
	case err := <-s.done:
		t.Fatalf("serve = %v with a request in flight; want it to wait", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("write the body: %v", err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read the response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST in flight during shutdown = %d; want 200", resp.StatusCode)
	}
	testutil.WaitDone(t, "serve", s.done)
}

// contextRecorder is a StatusServiceServer that remembers the context of
// the last call of the one it wraps.
type contextRecorder struct {
	tmdbstatusv1.StatusServiceServer
	mu  sync.Mutex
	ctx context.Context
}

func (r *contextRecorder) record(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctx = ctx
}

func (r *contextRecorder) last() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx
}

func (r *contextRecorder) Lookup(ctx context.Context, req *tmdbstatusv1.LookupRequest) (*tmdbstatusv1.LookupResponse, error) {
	r.record(ctx)
	return r.StatusServiceServer.Lookup(ctx, req)
}

func (r *contextRecorder) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest) (*tmdbstatusv1.TranslateResponse, error) {
	r.record(ctx)
	return r.StatusServiceServer.Translate(ctx, req)
}

func recordContexts(rec *contextRecorder) func(tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer {
	return func(srv tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer {
		rec.StatusServiceServer = srv
		return rec
	}
}

// TestTracePropagation checks that the W3C trace context a client sends,
// as a traceparent header over REST or traceparent metadata over gRPC, is
// the parent of the server's span, which is the span of the handler's
// context.
func TestTracePropagation(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	rec := new(contextRecorder)
	s := startServeWith(t, DefaultConfig(), serveOptions{tracerProvider: tp, wrap: recordContexts(rec)}, false)

	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	traceparent := "00-" + traceID + "-" + spanID + "-01"
	tests := []struct {
		name string
		call func()
		span string // Name of the server span.
	}{
		{"REST", func() {
			code, body := do(t, http.DefaultClient, http.MethodGet, "http://"+s.HTTPAddr+"/v1/statuses/7", "", http.Header{"Traceparent": {traceparent}})
			if code != http.StatusOK {
				t.Fatalf("GET /v1/statuses/7 = %d %s; want 200", code, body)
			}
		}, "GET /v1/statuses/{code}"},
		{"gRPC", func() {
			ctx := metadata.AppendToOutgoingContext(testutil.Context(t), "traceparent", traceparent)
			if _, err := tmdbstatusv1.NewStatusServiceClient(testutil.Dial(t, s.GRPCAddr)).Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7}); err != nil {
				t.Fatalf("Lookup(7): %v", err)
			}
		}, "tmdbstatus.v1.StatusService/Lookup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call()
			handler := trace.SpanContextFromContext(rec.last())
			// The server span ends once the answer is written: wait for it.
			var server sdktrace.ReadOnlySpan
			deadline := time.Now().Add(testutil.WaitTimeout)
			for server == nil {
				for _, sp := range spans.Ended() {
					if sp.Name() == tt.span && sp.SpanContext().SpanID() == handler.SpanID() {
						server = sp
					}
				}
				if server == nil && time.Now().After(deadline) {
					t.Fatalf("no ended span %q with the handler's span ID %v among %d", tt.span, handler.SpanID(), len(spans.Ended()))
				}
				time.Sleep(10 * time.Millisecond)
			}
			if got := server.Parent(); got.TraceID().String() != traceID || got.SpanID().String() != spanID || !got.IsRemote() {
				t.Errorf("span %q parent = %v %v (remote %v); want %s %s, remote", tt.span, got.TraceID(), got.SpanID(), got.IsRemote(), traceID, spanID)
			}
			if handler.TraceID().String() != traceID {
				t.Errorf("handler's trace ID = %v; want %s", handler.TraceID(), traceID)
			}
		})
	}
}

// TestTraceExport checks that spans are exported over OTLP only when
// OTEL_EXPORTER_OTLP_ENDPOINT is set: run with it set to a collector the
// test serves sends the span of a REST request there by the time it
// returns.
func TestTraceExport(t *testing.T) {
	tp, _, err := newTracerProvider(t.Context(), func(string) string { return "" })
	if tp != nil || err != nil {
		t.Errorf("newTracerProvider() without OTEL_* = %T, %v; want nil, nil: no tracing at all", tp, err)
	}

	var mu sync.Mutex
	var posts []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, fmt.Sprintf("%s %s %s %d bytes", r.Method, r.URL.Path, r.Header.Get("Content-Type"), len(body)))
		mu.Unlock()
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr testutil.SyncBuffer
	done := make(chan error, 1)
	cfg := DefaultConfig()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	go func() { done <- Run(ctx, nil, cfg, os.Getenv, &stderr) }()
	url := "http://" + waitForLog(t, &stderr, listeningRE)[1] + "/v1/statuses/7"
	if code, _ := get(t, http.DefaultClient, url); code != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", url, code)
	}
	cancel()
	testutil.WaitDone(t, "run", done)
	mu.Lock()
	defer mu.Unlock()
	if len(posts) == 0 || !strings.HasPrefix(posts[0], "POST /v1/traces application/x-protobuf") {
		t.Errorf("collector got %q; want a POST /v1/traces of protobuf", posts)
	}

	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
	err = Run(t.Context(), nil, cfg, os.Getenv, io.Discard)
	_, isConfig := errors.AsType[*ConfigError](err)
	if want := "invalid value \"carrier-pigeon\" for OTEL_EXPORTER_OTLP_PROTOCOL: want http/protobuf or grpc"; !isConfig || err.Error() != want {
		t.Errorf("Run with a bad OTEL_EXPORTER_OTLP_PROTOCOL = %v; want a *ConfigError %q", err, want)
	}
}

// TestRequestLogs checks the one log line per request at Debug, in JSON,
// and that the default level logs none.
func TestRequestLogs(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.LogFormat, cfg.LogLevel = "json", level
			s := startServeWith(t, cfg, serveOptions{}, false)
			client := tmdbstatusv1.NewStatusServiceClient(testutil.Dial(t, s.GRPCAddr))
			if _, err := client.Lookup(testutil.Context(t), &tmdbstatusv1.LookupRequest{Code: 99}); status.Code(err) != codes.NotFound {
				t.Fatalf("Lookup(99) = %v; want NotFound", err)
			}
			if code, _ := get(t, http.DefaultClient, "http://"+s.HTTPAddr+"/v1/statuses/7"); code != http.StatusOK {
				t.Fatalf("GET /v1/statuses/7 = %d; want 200", code)
			}
			if level != slog.LevelDebug {
				s.cancel() // Every line is written once serve returns.
				testutil.WaitDone(t, "serve", s.done)
				if strings.Contains(s.log.String(), `"msg":"rpc"`) || strings.Contains(s.log.String(), `"msg":"http request"`) {
					t.Errorf("log at %v = %s; want no request line", level, s.log)
				}
				return
			}
			waitForLog(t, s.log, regexp.MustCompile(`"msg":"http request"`))
			var rpc, rest map[string]any
			for line := range strings.Lines(s.log.String()) {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("log line %q is not JSON: %v", line, err)
				}
				switch m["msg"] {
				case "rpc":
					if m["method"] == "/tmdbstatus.v1.StatusService/Lookup" {
						rpc = m
					}
				case "http request":
					rest = m
				}
			}
			for _, tt := range []struct {
				line       map[string]any
				method     string
				code       any // a JSON string or number
				wantLevel  string
				wantFields []string
			}{
				{rpc, "/tmdbstatus.v1.StatusService/Lookup", "NotFound", "DEBUG", []string{"duration", "peer", "error"}},
				{rest, "GET", float64(200), "DEBUG", []string{"duration", "peer", "path"}},
			} {
				if tt.line == nil {
					t.Errorf("log has no line for %s:\n%s", tt.method, s.log)
					continue
				}
				if tt.line["method"] != tt.method || tt.line["code"] != tt.code || tt.line["level"] != tt.wantLevel {
					t.Errorf("log line %v; want method %s, code %v, level %s", tt.line, tt.method, tt.code, tt.wantLevel)
				}
				if d, ok := tt.line["duration"].(float64); !ok || d <= 0 || d > testutil.WaitTimeout.Seconds() {
					t.Errorf("log line %v: duration %v; want seconds, a number in (0, %v]", tt.line, tt.line["duration"], testutil.WaitTimeout.Seconds())
				}
				for _, f := range tt.wantFields {
					if _, ok := tt.line[f]; !ok {
						t.Errorf("log line %v lacks %q", tt.line, f)
					}
				}
			}
		})
	}
}

// TestLimits checks the limits on message size and time.
func TestLimits(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.GRPCMaxRecvBytes = 1 << 10
	cfg.HTTPMaxBodyBytes = 2 << 10
	cfg.ReadHeaderTimeout = 200 * time.Millisecond
	rec := new(contextRecorder)
	s := startServeWith(t, cfg, serveOptions{wrap: recordContexts(rec)}, false)
	client := tmdbstatusv1.NewStatusServiceClient(testutil.Dial(t, s.GRPCAddr))
	big := `{"status_code":34,"status_message":"` + strings.Repeat("x", 4<<10) + `"}`

	t.Run("gRPC max receive size", func(t *testing.T) {
		_, err := client.Translate(testutil.Context(t), &tmdbstatusv1.TranslateRequest{Body: big})
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("Translate(4 KiB body) = %v; want ResourceExhausted", err)
		}
	})
	t.Run("HTTP body limit", func(t *testing.T) {
		code, body := do(t, http.DefaultClient, http.MethodPost, "http://"+s.HTTPAddr+"/v1/statuses:translate", big, nil)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"maxBodyBytes":"2048"`) {
			t.Errorf("POST 4 KiB body = %d %s; want 413 naming maxBodyBytes 2048", code, body)
		}
	})
	t.Run("deadline from the stream's opening", func(t *testing.T) {
		// Without a client deadline, an RPC has cfg.RequestTimeout; a
		// client's later deadline does not extend it; REST has none (the
		// HTTP server's timeouts bound it).
		for _, clientTimeout := range []time.Duration{0, time.Hour} {
			ctx := context.Background()
			if clientTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, clientTimeout)
				defer cancel()
			}
			began := time.Now()
			if _, err := client.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7}); err != nil {
				t.Fatalf("Lookup(7): %v", err)
			}
			if dl, ok := rec.last().Deadline(); !ok || dl.Before(began.Add(cfg.RequestTimeout)) || dl.After(time.Now().Add(cfg.RequestTimeout)) {
				t.Errorf("gRPC with a client timeout of %v: handler's deadline = %v, %v; want %v after the call began", clientTimeout, dl, ok, cfg.RequestTimeout)
			}
		}
		if code, _ := get(t, http.DefaultClient, "http://"+s.HTTPAddr+"/v1/statuses/7"); code != http.StatusOK {
			t.Fatalf("GET /v1/statuses/7 = %d; want 200", code)
		}
		if dl, ok := rec.last().Deadline(); ok {
			t.Errorf("REST: handler's deadline = %v; want none", dl)
		}
	})
	t.Run("read header timeout", func(t *testing.T) {
		conn, err := net.Dial("tcp", s.HTTPAddr)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET /v1/statuses/7 HTTP/1.1\r\nHost: x\r\n") // No end of headers.
		conn.SetReadDeadline(time.Now().Add(testutil.WaitTimeout))
		// The server closes the connection, perhaps after a 408.
		b, err := io.ReadAll(conn)
		if err != nil || (len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 408 ")) {
			t.Errorf("read a connection whose headers never end = %q, %v; want it closed", b, err)
		}
	})
}

// TestKeepaliveEnforcement checks the policy of --grpc-keepalive-min-time:
// a client with no RPC in flight may ping as often as it allows (grpc-go's
// default would send it away after its third ping), and one pinging more
// often is sent away. It speaks HTTP/2 itself, as grpc-go's client will not
// ping more often than every 10 s.
func TestKeepaliveEnforcement(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.KeepaliveMinTime = 50 * time.Millisecond
	for _, tt := range []struct {
		name       string
		interval   time.Duration
		wantGoAway bool
	}{
		{"slower than the min time", 2 * cfg.KeepaliveMinTime, false},
		{"faster than the min time", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServeWith(t, cfg, serveOptions{}, false)
			ga, err := ping(t, s.GRPCAddr, 6, tt.interval)
			switch {
			case tt.wantGoAway && (ga == nil || ga.ErrCode != http2.ErrCodeEnhanceYourCalm || string(ga.DebugData()) != "too_many_pings"):
				t.Errorf("6 pings %v apart: GOAWAY %v, %v; want ENHANCE_YOUR_CALM too_many_pings", tt.interval, ga, err)
			case !tt.wantGoAway && (ga != nil || err != nil):
				t.Errorf("6 pings %v apart, min time %v: GOAWAY %v, %v; want every ping answered", tt.interval, cfg.KeepaliveMinTime, ga, err)
			}
		})
	}
}

// ping opens an HTTP/2 connection to addr and sends n pings, interval
// apart, each once the last was answered. It returns the GOAWAY the server
// sent, if any, or the error that ended the connection.
func ping(t *testing.T, addr string, n int, interval time.Duration) (*http2.GoAwayFrame, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testutil.WaitTimeout))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatalf("write the HTTP/2 preface: %v", err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatalf("WriteSettings: %v", err)
	}
	for i := range n {
		time.Sleep(interval)
		if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			return nil, fmt.Errorf("ping %d: %w", i, err)
		}
		for acked := false; !acked; {
			f, err := fr.ReadFrame()
			if err != nil {
				return nil, fmt.Errorf("after ping %d: %w", i, err)
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				return f, nil
			case *http2.PingFrame:
				acked = f.IsAck() && f.Data == [8]byte{byte(i)}
			}
		}
	}
	return nil, nil
}

// TestOpenAPIServed checks that /openapi.json serves the embedded spec as
// JSON.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	s := startServeWith(t, DefaultConfig(), serveOptions{}, false)
	resp, err := http.Get("http://" + s.HTTPAddr + "/openapi.json")
	if err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, openapiv2.Spec) {
		t.Errorf("GET /openapi.json = %d, %d bytes, %v; want 200 and the %d bytes of openapiv2.Spec", resp.StatusCode, len(body), err, len(openapiv2.Spec))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /openapi.json Content-Type = %q; want application/json", ct)
	}
	post, err := http.Post("http://"+s.HTTPAddr+"/openapi.json", "application/json", nil)
	if err != nil {
		t.Fatalf("POST /openapi.json: %v", err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed || post.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /openapi.json = %d, Allow %q; want 405, Allow GET, HEAD", post.StatusCode, post.Header.Get("Allow"))
	}
}

var listeningRE = regexp.MustCompile(`msg="HTTP server listening" addr=(\S+)`)

// TestMaxConnectionAge checks that a gRPC connection older than
// MaxConnectionAge is sent a GOAWAY, so that its client reconnects, and
// that the default lets new pods get traffic within minutes.
func TestMaxConnectionAge(t *testing.T) {
	t.Parallel()
	if d := DefaultConfig().MaxConnectionAge; d <= 0 || d > 10*time.Minute {
		t.Errorf("default MaxConnectionAge = %v; want a few minutes", d)
	}
	cfg := DefaultConfig()
	cfg.MaxConnectionAge, cfg.MaxConnectionAgeGrace = 300*time.Millisecond, time.Second
	s := startServeWith(t, cfg, serveOptions{}, false)
	conn, err := net.Dial("tcp", s.GRPCAddr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", s.GRPCAddr, err)
	}
	defer conn.Close()
	start := time.Now()
	conn.SetDeadline(start.Add(testutil.WaitTimeout))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatalf("write the HTTP/2 preface: %v", err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatalf("WriteSettings: %v", err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("ReadFrame: %v; want a GOAWAY once the connection is %v old", err, cfg.MaxConnectionAge)
		}
		if _, ok := f.(*http2.GoAwayFrame); ok {
			if age := time.Since(start); age < cfg.MaxConnectionAge*8/10 {
				t.Errorf("GOAWAY after %v; want after about %v", age, cfg.MaxConnectionAge)
			}
			return
		}
	}
}

// TestAPIPathsAsSent checks that the HTTP port's fixed endpoints leave
// every other path, a ".." in it too, to the gateway's JSON errors rather
// than to http.ServeMux's redirects.
func TestAPIPathsAsSent(t *testing.T) {
	t.Parallel()
	for _, rt := range gateway.Routes() {
		if !strings.HasPrefix(rt.Template, apiPrefix) {
			t.Errorf("route %s does not begin with apiPrefix %s", rt.Template, apiPrefix)
		}
	}
	s := startServeWith(t, DefaultConfig(), serveOptions{}, false)
	code, body := get(t, http.DefaultClient, "http://"+s.HTTPAddr+"/v1/statuses/../statuses/7")
	if code != http.StatusNotFound || !strings.Contains(body, service.ReasonRouteNotFound) {
		t.Errorf("GET /v1/statuses/../statuses/7 = %d %s; want 404 %s", code, body, service.ReasonRouteNotFound)
	}
}
