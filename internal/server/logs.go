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
	"google.golang.org/grpc/grpclog"
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

// libraryLogsPerSecond is how many records a limitedHandler writes a second.
const libraryLogsPerSecond = 10

// limitedHandler is a slog.Handler writing at most libraryLogsPerSecond
// records a second; the next one written says how many were dropped. It is
// ours, as golang.org/x/time/rate would be a module for one counter.
type limitedHandler struct {
	slog.Handler
	*logLimiter // Shared with the handlers of WithAttrs and WithGroup.
}

type logLimiter struct {
	now func() time.Time

	mu               sync.Mutex
	second           time.Time // when the current second began
	written, dropped int
}

func newLimitedHandler(h slog.Handler) *limitedHandler {
	return &limitedHandler{h, &logLimiter{now: time.Now}}
}

// allow reports whether a record may be written now, and how many were
// dropped since the last one written.
func (l *logLimiter) allow() (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.second) >= time.Second {
		l.second, l.written = now, 0
	}
	if l.written >= libraryLogsPerSecond {
		l.dropped++
		return false, 0
	}
	l.written++
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}

func (h *limitedHandler) Handle(ctx context.Context, r slog.Record) error {
	ok, dropped := h.allow()
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
	return &limitedHandler{h.Handler.WithAttrs(attrs), h.logLimiter}
}

func (h *limitedHandler) WithGroup(name string) slog.Handler {
	return &limitedHandler{h.Handler.WithGroup(name), h.logLimiter}
}

// grpcLog and otelLog are where grpclog and OpenTelemetry write, each rate
// limited on its own: to the logger the last Run set, or slog's default.
var grpcLog, otelLog atomic.Pointer[slog.Logger]

// setLibraryLoggers sends what the libraries log, often on a client's
// behalf (a failed handshake), to logger, rate limited.
func setLibraryLoggers(logger *slog.Logger) {
	grpcLog.Store(slog.New(newLimitedHandler(logger.Handler())))
	otelLog.Store(slog.New(newLimitedHandler(logger.Handler())))
}

// grpclog is set once, before gRPC is used, as it asks.
func init() {
	setLibraryLoggers(slog.Default())
	grpclog.SetLoggerV2(grpcLogger{})
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		otelLog.Load().Warn("opentelemetry error", "error", err.Error())
	}))
}

// grpcLogger is a grpclog.LoggerV2 writing to grpcLog: INFO and WARNING at
// Debug (grpc-go warns of every connection a client drops), ERROR at
// Error, no verbose logs.
type grpcLogger struct{}

var _ grpclog.LoggerV2 = grpcLogger{}

func (grpcLogger) Info(args ...any)                    { logGRPC(slog.LevelDebug, "", args) }
func (grpcLogger) Infoln(args ...any)                  { logGRPC(slog.LevelDebug, "", args) }
func (grpcLogger) Infof(format string, args ...any)    { logGRPC(slog.LevelDebug, format, args) }
func (grpcLogger) Warning(args ...any)                 { logGRPC(slog.LevelDebug, "", args) }
func (grpcLogger) Warningln(args ...any)               { logGRPC(slog.LevelDebug, "", args) }
func (grpcLogger) Warningf(format string, args ...any) { logGRPC(slog.LevelDebug, format, args) }
func (grpcLogger) Error(args ...any)                   { logGRPC(slog.LevelError, "", args) }
func (grpcLogger) Errorln(args ...any)                 { logGRPC(slog.LevelError, "", args) }
func (grpcLogger) Errorf(format string, args ...any)   { logGRPC(slog.LevelError, format, args) }
func (grpcLogger) Fatal(args ...any)                   { fatal("", args) }
func (grpcLogger) Fatalln(args ...any)                 { fatal("", args) }
func (grpcLogger) Fatalf(format string, args ...any)   { fatal(format, args) }
func (grpcLogger) V(int) bool                          { return false }

// logGRPC logs args, formatted with format unless it is "", at level.
func logGRPC(level slog.Level, format string, args []any) {
	if l := grpcLog.Load(); l.Enabled(context.Background(), level) {
		l.Log(context.Background(), level, sprint(format, args), "logger", "grpc")
	}
}

func sprint(format string, args []any) string {
	if format == "" {
		return fmt.Sprint(args...)
	}
	return fmt.Sprintf(format, args...)
}

// fatal logs at Error, past the limiter, and exits, as grpclog's Fatal does.
func fatal(format string, args []any) {
	slog.New(grpcLog.Load().Handler().(*limitedHandler).Handler).Error(sprint(format, args), "logger", "grpc")
	os.Exit(1)
}
