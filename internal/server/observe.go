package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
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

// metrics are the Prometheus metrics of one serve: its own registry, not
// the global one, so that tests can run servers side by side.
type metrics struct {
	registry *prometheus.Registry
	grpc     *grpcprom.ServerMetrics
	// REST requests by route, HTTP method and status code.
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	// Translations by TMDB code and resulting gRPC code, over both
	// transports.
	translations *prometheus.CounterVec
}

// routeOther is the route label of REST paths the API does not have; the
// others are its path templates.
const routeOther = "other"

// routes lists every value of the route label.
var routes = append(gateway.Templates(), routeOther)

// routeOf returns the route label of a REST request path.
func routeOf(path string) string {
	if t := gateway.Route(path); t != "" {
		return t
	}
	return routeOther
}

// noTMDBCode is the tmdb_code label of a translation without an entry in
// TMDB's table: no status code was given, or one the table does not define.
const noTMDBCode = "none"

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets(prometheus.ExponentialBuckets(0.0001, 4, 10)))),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "REST requests completed, by route, method and HTTP status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Latency of REST requests, by route, method and HTTP status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route", "method", "code"}),
		translations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tmdbstatus_translations_total",
			Help: "Translations of TMDB answers, over gRPC and REST, by TMDB status code (" +
				noTMDBCode + " when it is not in TMDB's table) and resulting gRPC code.",
		}, []string{"tmdb_code", "grpc_code"}),
	}
	// Every row of the table starts at zero, so that rates exist from the
	// first scrape on.
	for _, e := range service.Entries() {
		m.translations.WithLabelValues(strconv.Itoa(int(e.TMDBCode())), e.Code.String())
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.grpc, m.httpRequests, m.httpDuration, m.translations,
	)
	return m
}

// handler serves the metrics in Prometheus' exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// countTranslations returns srv, counting its translations in m. Both the
// gRPC server and the REST gateway call the server it returns, so each
// translation counts once, whatever its transport.
func (m *metrics) countTranslations(srv tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer {
	// A code of TMDB's table always translates to its row's gRPC code: its
	// counter is resolved once, here, not per request.
	byCode := map[int32]prometheus.Counter{}
	for _, e := range service.Entries() {
		byCode[e.TMDBCode()] = m.translations.WithLabelValues(strconv.Itoa(int(e.TMDBCode())), e.Code.String())
	}
	return countingServer{StatusServiceServer: srv, translations: m.translations, byCode: byCode}
}

// countingServer is a StatusServiceServer that counts the translations of
// the one it wraps.
type countingServer struct {
	tmdbstatusv1.StatusServiceServer
	translations *prometheus.CounterVec
	byCode       map[int32]prometheus.Counter // the table's codes, with their rows' gRPC codes
}

// PureAnswers marks countingServer as a gateway.PureServer: its answers are
// those of the service it wraps, so the gateway may reuse their JSON (it
// still calls Translate, and so counts, for every request).
func (countingServer) PureAnswers() {}

var _ gateway.PureServer = countingServer{}

func (s countingServer) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest) (*tmdbstatusv1.TranslateResponse, error) {
	resp, err := s.StatusServiceServer.Translate(ctx, req)
	if err == nil {
		e := resp.GetEntry()
		if c := s.byCode[e.GetCode()]; c != nil && e.GetGrpcCode() == rpccode.Code(resp.GetStatus().GetCode()) {
			c.Inc()
			return resp, err
		}
		tmdbCode := noTMDBCode
		if e != nil {
			tmdbCode = strconv.Itoa(int(e.GetCode()))
		}
		s.translations.WithLabelValues(tmdbCode, codes.Code(resp.GetStatus().GetCode()).String()).Inc()
	}
	return resp, err
}

// instrumentREST returns next traced by otelhttp (with traceOpts, the span
// named by the route), with a request count and a latency histogram by
// route: one handler per route, chosen from the path, so that no label or
// name is built per request.
func (m *metrics) instrumentREST(next http.Handler, traceOpts ...otelhttp.Option) http.Handler {
	byRoute := make(map[string]http.Handler, len(routes))
	for _, route := range routes {
		labels := prometheus.Labels{"route": route}
		// Spans are named "GET /v1/statuses/{code}", as OpenTelemetry's
		// semantic conventions ask.
		get, post := http.MethodGet+" "+route, http.MethodPost+" "+route
		spanName := func(_ string, r *http.Request) string {
			switch r.Method {
			case http.MethodGet:
				return get
			case http.MethodPost:
				return post
			}
			return r.Method + " " + route
		}
		opts := append([]otelhttp.Option{
			otelhttp.WithSpanNameFormatter(spanName),
			otelhttp.WithSpanOptions(trace.WithAttributes(attribute.String("http.route", route))),
		}, traceOpts...)
		byRoute[route] = otelhttp.NewHandler(
			promhttp.InstrumentHandlerDuration(m.httpDuration.MustCurryWith(labels),
				promhttp.InstrumentHandlerCounter(m.httpRequests.MustCurryWith(labels), next)),
			route, opts...)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		byRoute[routeOf(r.URL.Path)].ServeHTTP(w, r)
	})
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

// logUnary logs one line per unary RPC to logger.
func logUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logRPC(ctx, logger, info.FullMethod, start, err)
		return resp, err
	}
}

// logStream logs one line per streaming RPC to logger.
func logStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logRPC(ss.Context(), logger, info.FullMethod, start, err)
		return err
	}
}

func logRPC(ctx context.Context, logger *slog.Logger, method string, start time.Time, err error) {
	c := status.Code(err)
	level := grpcLogLevel(c)
	if !logger.Enabled(ctx, level) {
		return
	}
	var more []slog.Attr
	if err != nil {
		more = append(more, slog.String("error", status.Convert(err).Message()))
	}
	logger.LogAttrs(ctx, level, "rpc", logAttrs(ctx, method, c.String(), start, peerAddr(ctx), more...)...)
}

// recoverPanic turns a panic of a handler into an INTERNAL error, logged
// with its stack, instead of the end of the process.
func recoverPanic(logger *slog.Logger) func(ctx context.Context, p any) error {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in RPC handler", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	}
}

// internalErrorJSON is the answer to a REST request whose handler panicked:
// the google.rpc.Status the gRPC side answers with, as the gateway writes
// errors.
var internalErrorJSON = []byte(`{"code":13,"message":"internal error","details":[]}`)

// recoverHTTP turns a panic in next into a 500 INTERNAL google.rpc.Status,
// logged with its stack, as recoverPanic does for RPCs, so that the
// connection is answered and the request is counted and logged.
// http.ErrAbortHandler is passed on: it is how a handler asks net/http to
// abort the response.
func recoverHTTP(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			logger.ErrorContext(r.Context(), "panic in HTTP handler", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(internalErrorJSON)
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logHTTP logs one line per REST request to logger: at Debug, or at Error
// for a 500.
func logHTTP(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		level := slog.LevelDebug
		if rec.code == http.StatusInternalServerError {
			level = slog.LevelError
		}
		ctx := r.Context()
		if !logger.Enabled(ctx, level) {
			return
		}
		logger.LogAttrs(ctx, level, "http request", logAttrs(ctx, r.Method, strconv.Itoa(rec.code), start, r.RemoteAddr,
			slog.String("path", r.URL.Path))...)
	})
}

// deadlineUnary gives every unary RPC a deadline of at most d.
func deadlineUnary(d time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, cancel := withDeadline(ctx, d)
		defer cancel()
		return handler(ctx, req)
	}
}

// deadlineHTTP gives every request a deadline of at most d.
func deadlineHTTP(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := withDeadline(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withDeadline returns ctx with a deadline d from now, unless it has an
// earlier one.
func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
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
// the other OTEL_* variables the exporters and the SDK read. Otherwise no
// span is recorded, but trace context still flows from the requests to the
// handlers.
func newTracerProvider(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
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
