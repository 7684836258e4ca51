package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
)

// newLogger returns the logger of the process, writing to w in format
// ("text" or "json") the records at level and above.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Request logs: one line per request at Debug, and at Error for the
// failures that are the server's fault (Unknown, Internal, DataLoss; HTTP
// 500). Nothing is built unless the line is written.

// grpcLogLevel returns the level of the log line of an RPC ending with c.
func grpcLogLevel(c codes.Code) slog.Level {
	switch c {
	case codes.Unknown, codes.Internal, codes.DataLoss:
		return slog.LevelError
	}
	return slog.LevelDebug
}

// logAttrs returns the attributes of a request log line that every
// transport has, with the trace ID of ctx when it has one.
func logAttrs(ctx context.Context, method, code string, start time.Time, peer string, more ...slog.Attr) []slog.Attr {
	attrs := append([]slog.Attr{
		slog.String("method", method),
		slog.String("code", code),
		slog.Duration("duration", time.Since(start)),
		slog.String("peer", peer),
	}, more...)
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	return attrs
}

// peerAddr returns the address of the gRPC client of ctx.
func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// healthHandlers serves /healthz, which answers 200 while the process runs, and
// /readyz, which answers 200 while ready is true and 503 once shutdown has
// begun.
func healthHandlers(ready *atomic.Bool) (healthz, readyz http.Handler) {
	answer := func(w http.ResponseWriter, r *http.Request, code int, body string) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
	healthz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, http.StatusOK, "ok\n")
	})
	readyz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready.Load() {
			answer(w, r, http.StatusOK, "ok\n")
		} else {
			answer(w, r, http.StatusServiceUnavailable, "shutting down\n")
		}
	})
	return healthz, readyz
}

// openAPIHandler serves openAPISpec, or 404 while it is empty.
func openAPIHandler(w http.ResponseWriter, r *http.Request) {
	if len(openAPISpec) == 0 {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPISpec)
}

// propagator reads and writes W3C trace context and baggage, over REST
// (traceparent headers) and gRPC (traceparent metadata).
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// newTracerProvider returns the tracer provider of the process and a
// function flushing it at exit. Spans are exported over OTLP only when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
// with the protocol of OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf, the default, or grpc), and
// the other OTEL_* variables the exporters and the SDK read. Otherwise it
// returns a nil provider: tracing is off, and nothing of OpenTelemetry is
// on the path of a request.
func newTracerProvider(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, func(context.Context) error { return nil }, nil
	}
	protocol, protocolVar := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if protocol == "" {
		protocol, protocolVar = getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	var (
		exporter sdktrace.SpanExporter
		err      error
	)
	switch protocol {
	case "", "http/protobuf":
		exporter, err = otlptracehttp.New(ctx)
	case "grpc":
		exporter, err = otlptracegrpc.New(ctx)
	default:
		return nil, nil, fmt.Errorf("invalid value %q for %s: want http/protobuf or grpc", protocol, protocolVar)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the name.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "tmdbstatus")),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}
