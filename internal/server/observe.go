package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// observer counts, times and logs every request, and recovers from the
// panics of their handlers: one interceptor and one HTTP handler, as each
// link of a grpc-go chain allocates a closure per call.
type observer struct {
	logger  *slog.Logger
	metrics *metrics
}

// unary observes a unary RPC, turning a panic of its handler into INTERNAL.
func (o *observer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	rs := o.metrics.rpcs[info.FullMethod] // Every unary method is served.
	rs.started.Inc()
	rs.received.Inc()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, o.recovered(ctx, "panic in RPC handler", p)
		}
		o.endRPC(ctx, rs, info.FullMethod, start, err)
		if err == nil {
			rs.sent.Inc()
		}
	}()
	return handler(ctx, req)
}

// stream observes a streaming RPC and its messages, turning a panic of its
// handler into INTERNAL.
func (o *observer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	rs := o.metrics.rpcs[info.FullMethod]
	if rs == nil {
		// The unknown-service handler, counted as rejected alone: a client
		// cannot make new series.
		return handler(srv, ss)
	}
	rs.started.Inc()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = o.recovered(ss.Context(), "panic in RPC handler", p)
		}
		o.endRPC(ss.Context(), rs, info.FullMethod, start, err)
	}()
	return handler(srv, &countingStream{ServerStream: ss, rs: rs})
}

// endRPC counts the end of an RPC and logs it: at Debug, or at Error for
// the codes that are the server's fault.
func (o *observer) endRPC(ctx context.Context, rs *rpcSeries, method string, start time.Time, err error) {
	c := status.Code(err)
	if int(c) < len(rs.handled) {
		rs.handled[c].Inc()
	}
	rs.seconds.Observe(time.Since(start).Seconds())
	level := slog.LevelDebug
	if c == codes.Unknown || c == codes.Internal || c == codes.DataLoss {
		level = slog.LevelError
	}
	if !o.logger.Enabled(ctx, level) {
		return
	}
	var more []slog.Attr
	if err != nil {
		more = append(more, slog.String("error", status.Convert(err).Message()))
	}
	addr := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	o.logRequest(ctx, level, "rpc", method, slog.String("code", c.String()), start, addr, more...)
}

// countingStream counts the messages of a stream.
type countingStream struct {
	grpc.ServerStream
	rs *rpcSeries
}

func (s *countingStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.rs.sent.Inc()
	}
	return err
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.rs.received.Inc()
	}
	return err
}

// rest returns next observed, answering a panic with the gateway's 500
// INTERNAL but passing on http.ErrAbortHandler, which aborts the response.
func (o *observer) rest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &restRecorder{ResponseWriter: w, route: routeOther}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				o.recovered(r.Context(), "panic in HTTP handler", p)
				gateway.WriteError(rec, r, internalError)
			}
			o.endREST(rec, r, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// endREST counts the end of a REST request and logs it: at Debug, or at
// Error for a 500.
func (o *observer) endREST(rec *restRecorder, r *http.Request, start time.Time) {
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	o.metrics.observeREST(rec.route, r.Method, rec.code, time.Since(start))
	level := slog.LevelDebug
	if rec.code == http.StatusInternalServerError {
		level = slog.LevelError
	}
	ctx := r.Context()
	if o.logger.Enabled(ctx, level) {
		o.logRequest(ctx, level, "http request", r.Method, slog.Int("code", rec.code), start, r.RemoteAddr,
			slog.String("path", r.URL.Path))
	}
}

// logRequest writes the log line of a request, with the trace ID of ctx
// when it has one.
func (o *observer) logRequest(ctx context.Context, level slog.Level, msg, method string, code slog.Attr, start time.Time, peer string, more ...slog.Attr) {
	attrs := append([]slog.Attr{
		slog.String("method", method),
		code,
		slog.Float64("duration", time.Since(start).Seconds()),
		slog.String("peer", peer),
	}, more...)
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	o.logger.LogAttrs(ctx, level, msg, attrs...)
}

// restRecorder keeps the status code of a REST response and the route
// labelRoutes found: ours, as httpsnoop.Wrap costs 8 allocations a request.
type restRecorder struct {
	http.ResponseWriter
	code  int
	route string
}

func (r *restRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *restRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *restRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// internalError is the answer to a request whose handler panicked, over
// both transports.
var internalError = service.RequestStatus(codes.Internal, service.ReasonInternalError, "internal error", nil, "")

// recovered logs the panic p with its stack and returns the error the
// client gets instead of the end of the process.
func (o *observer) recovered(ctx context.Context, msg string, p any) error {
	o.logger.ErrorContext(ctx, msg, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return internalError.Err()
}
