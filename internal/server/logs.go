package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/grpclog"
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
// transport has (code: the gRPC code's name, or the HTTP status as a
// number; the duration in seconds), with the trace ID of ctx when it has
// one.
func logAttrs(ctx context.Context, method string, code slog.Attr, start time.Time, peer string, more ...slog.Attr) []slog.Attr {
	attrs := append([]slog.Attr{
		slog.String("method", method),
		code,
		slog.Float64("duration", time.Since(start).Seconds()),
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

// What libraries log (net/http's server errors, grpc-go's and
// grpc-gateway's grpclog, OpenTelemetry's internal errors) is often caused
// by a client: a failed TLS handshake, a malformed Content-Type. It goes
// through the process's slog logger, so that a JSON log holds only JSON
// lines, and through a limiter, so that no client can flood the log.

// Library log lines let through each libraryLogEvery: the rest are counted,
// and the next line let through says how many were dropped.
const (
	libraryLogBurst = 10
	libraryLogEvery = time.Second
)

// limitedHandler is a slog.Handler that writes at most burst records each
// period: rate limiting is ours to write in a dozen lines, where
// golang.org/x/time/rate would be a module for one counter.
type limitedHandler struct {
	slog.Handler
	l *logLimiter
}

// logLimiter is the state a limitedHandler and its WithAttrs children share.
type logLimiter struct {
	burst  int
	period time.Duration
	now    func() time.Time

	mu          sync.Mutex
	windowStart time.Time
	inWindow    int
	dropped     int
}

// newLimitedHandler returns h letting through at most burst records each
// period.
func newLimitedHandler(h slog.Handler, burst int, period time.Duration) *limitedHandler {
	return &limitedHandler{Handler: h, l: &logLimiter{burst: burst, period: period, now: time.Now}}
}

// allow reports whether a record may be written now, and how many were
// dropped since the last one written.
func (l *logLimiter) allow() (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.windowStart) >= l.period {
		l.windowStart, l.inWindow = now, 0
	}
	if l.inWindow >= l.burst {
		l.dropped++
		return false, 0
	}
	l.inWindow++
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}

func (h *limitedHandler) Handle(ctx context.Context, r slog.Record) error {
	ok, dropped := h.l.allow()
	if !ok {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("dropped_before", dropped))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *limitedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &limitedHandler{Handler: h.Handler.WithAttrs(attrs), l: h.l}
}

func (h *limitedHandler) WithGroup(name string) slog.Handler {
	return &limitedHandler{Handler: h.Handler.WithGroup(name), l: h.l}
}

// grpcLog and otelLog are where grpclog and OpenTelemetry write: the
// logger the last Run set, each rate limited on its own, or slog's default
// before.
var grpcLog, otelLog atomic.Pointer[slog.Logger]

func loggerOr(p *atomic.Pointer[slog.Logger]) *slog.Logger {
	if l := p.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// setLibraryLoggers sends the libraries' log lines to logger, at most
// libraryLogBurst each libraryLogEvery from each library.
func setLibraryLoggers(logger *slog.Logger) {
	for _, p := range []*atomic.Pointer[slog.Logger]{&grpcLog, &otelLog} {
		p.Store(slog.New(newLimitedHandler(logger.Handler(), libraryLogBurst, libraryLogEvery)))
	}
}

// grpclog is set once, before gRPC is used, as it asks; it then writes to
// whichever logger setLibraryLoggers set.
func init() {
	grpclog.SetLoggerV2(grpcLogger{})
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		loggerOr(&otelLog).Warn("opentelemetry error", "error", err.Error())
	}))
}

// grpcLogger is a grpclog.LoggerV2 writing to grpcLog: INFO and WARNING
// at Debug (grpclog's own logger writes neither by default; grpc-go warns
// of every connection a client drops), ERROR at Error. grpc-go's verbose
// logs are off.
type grpcLogger struct{}

var _ grpclog.LoggerV2 = grpcLogger{}

func (grpcLogger) log(level slog.Level, msg string) {
	if l := loggerOr(&grpcLog); l.Enabled(context.Background(), level) {
		l.Log(context.Background(), level, msg, "logger", "grpc")
	}
}

func (g grpcLogger) Info(args ...any)   { g.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Infoln(args ...any) { g.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Infof(format string, args ...any) {
	g.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Warning(args ...any)   { g.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any) { g.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Warningf(format string, args ...any) {
	g.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Error(args ...any)   { g.log(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any) { g.log(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorf(format string, args ...any) {
	g.log(slog.LevelError, fmt.Sprintf(format, args...))
}

func (grpcLogger) Fatal(args ...any)                 { fatal(fmt.Sprint(args...)) }
func (grpcLogger) Fatalln(args ...any)               { fatal(fmt.Sprint(args...)) }
func (grpcLogger) Fatalf(format string, args ...any) { fatal(fmt.Sprintf(format, args...)) }
func (grpcLogger) V(int) bool                        { return false }

// fatal logs msg at Error, past the limiter, and exits, as grpclog's own
// Fatal does.
func fatal(msg string) {
	h := loggerOr(&grpcLog).Handler()
	if lh, ok := h.(*limitedHandler); ok {
		h = lh.Handler
	}
	slog.New(h).Error(msg, "logger", "grpc")
	os.Exit(1)
}
