package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// BenchmarkREST measures what the observability of a REST request costs:
// the gateway alone, and with the metrics, logs (at the default level),
// tracing (not exporting) and deadline serve wraps it in.
func BenchmarkREST(b *testing.B) {
	m := newMetrics()
	srv := m.countTranslations(service.New())
	cfg := DefaultConfig()
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"gateway", gateway.New(srv)},
		{"observed", restHandler(cfg, newLogger(io.Discard, "text", cfg.LogLevel), noop.NewTracerProvider(), m, srv)},
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
// bufconn: a bare grpc.Server, and the one serve runs, with its metrics,
// logs (at the default level), tracing (not exporting) and deadline.
func BenchmarkGRPC(b *testing.B) {
	m := newMetrics()
	srv := m.countTranslations(service.New())
	cfg := DefaultConfig()
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
			s, _ := newGRPCServer(cfg, newLogger(io.Discard, "text", cfg.LogLevel), nil, noop.NewTracerProvider(), m, srv, b.Context())
			return s
		}},
	} {
		b.Run(s.name, func(b *testing.B) {
			lis := bufconn.Listen(1 << 20)
			gs := s.new()
			go gs.Serve(lis)
			defer gs.Stop()
			conn, err := grpc.NewClient("passthrough:///bufconn",
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatalf("grpc.NewClient: %v", err)
			}
			defer conn.Close()
			client := tmdbstatusv1.NewStatusServiceClient(conn)
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
