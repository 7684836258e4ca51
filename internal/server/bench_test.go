package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// benchObserver returns the observer serve runs with, at the default log
// level, and the server it counts the translations of.
func benchObserver() (*observer, tmdbstatusv1.StatusServiceServer) {
	m := newMetrics()
	return &observer{logger: newLogger(io.Discard, "text", DefaultConfig().LogLevel), metrics: m}, countingServer{service.New(), m}
}

// BenchmarkREST measures what the observability of a REST request costs:
// the gateway alone, with the metrics, logs (at the default level) and
// recovery serve wraps it in (tracing off, the default), that one behind
// the HTTP port's fixed endpoints, as served, and with tracing on (spans
// recorded by the SDK, exported nowhere).
func BenchmarkREST(b *testing.B) {
	cfg := DefaultConfig()
	obs, srv := benchObserver()
	traced, tracedSrv := benchObserver()
	var ready atomic.Bool
	served, _ := newHTTPServers(cfg, serveOptions{logger: obs.logger}, obs, srv, &ready)
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"gateway", gateway.New(srv)},
		{"observed", restHandler(cfg, obs, nil, srv)},
		{"served", served.Handler},
		{"traced", restHandler(cfg, traced, sdktrace.NewTracerProvider(), tracedSrv)},
	}
	requests := []struct {
		name, method, path, body string
	}{
		{"Lookup", http.MethodGet, "/v1/statuses/7", ""},
		{"Translate", http.MethodPost, "/v1/statuses:translate", `{"status_code":34}`},
	}
	for _, req := range requests {
		for _, h := range handlers {
			b.Run(req.name+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r := httptest.NewRequest(req.method, req.path, strings.NewReader(req.body))
					r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
					w := httptest.NewRecorder()
					h.h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%s %s = %d %s; want 200", req.method, req.path, w.Code, w.Body)
					}
				}
			})
		}
	}
}

// BenchmarkGRPC measures what the observability of an RPC costs, over
// bufconn: a bare grpc.Server, the one serve runs (metrics, logs at the
// default level, recovery; tracing off, the default), and that one with
// tracing on (spans recorded by the SDK, exported nowhere).
func BenchmarkGRPC(b *testing.B) {
	cfg := DefaultConfig()
	obs, srv := benchObserver()
	for _, s := range []struct {
		name string
		new  func() *grpc.Server
	}{
		{"bare", func() *grpc.Server {
			s := grpc.NewServer()
			tmdbstatusv1.RegisterStatusServiceServer(s, srv)
			return s
		}},
		{"observed", func() *grpc.Server {
			s, _ := newGRPCServer(cfg, obs, nil, nil, srv, b.Context())
			return s
		}},
		{"traced", func() *grpc.Server {
			traced, srv := benchObserver()
			s, _ := newGRPCServer(cfg, traced, nil, sdktrace.NewTracerProvider(), srv, b.Context())
			return s
		}},
	} {
		client := tmdbstatusv1.NewStatusServiceClient(testutil.Bufconn(b, s.new()))
		b.Run("Lookup/"+s.name, func(b *testing.B) {
			req := &tmdbstatusv1.LookupRequest{Code: 34}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Lookup(b.Context(), req); err != nil {
					b.Fatalf("Lookup(34): %v", err)
				}
			}
		})
		b.Run("Translate/"+s.name, func(b *testing.B) {
			req := &tmdbstatusv1.TranslateRequest{StatusCode: 34, HttpStatus: 404}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Translate(b.Context(), req); err != nil {
					b.Fatalf("Translate(34): %v", err)
				}
			}
		})
	}
}

// BenchmarkMetrics measures what the metrics of one request cost: its
// counters alone, and with its latency histogram, for each transport.
func BenchmarkMetrics(b *testing.B) {
	m := newMetrics()
	gs := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(gs, service.New())
	m.resolveGRPC(gs)
	const lookup = "/tmdbstatus.v1.StatusService/Lookup"
	for _, name := range []string{"grpc/counters", "grpc/counters+histogram"} {
		histogram := strings.HasSuffix(name, "+histogram")
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs := m.rpcs[lookup]
				rs.started.Inc()
				rs.received.Inc()
				rs.handled[0].Inc()
				rs.sent.Inc()
				if histogram {
					rs.seconds.Observe(0.00002)
				}
			}
		})
	}
	b.Run("rest/counter+histogram", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.observeREST("/v1/statuses/{code}", http.MethodGet, http.StatusOK, 20*time.Microsecond)
		}
	})
	b.Run("rest/counter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.rest[restKey{"/v1/statuses/{code}", http.MethodGet, http.StatusOK}].requests.Inc()
		}
	})
}
