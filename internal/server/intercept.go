package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// observer counts, times and logs every request, and recovers from the
// panics of their handlers. It is one interceptor and one HTTP handler,
// not a chain of them, as each link of a grpc-go chain allocates a
// closure per call. It sets no deadline: requestDeadline's tap gives an
// RPC its deadline once, when its stream opens.
type observer struct {
	logger  *slog.Logger
	metrics *metrics
	tracing bool // a span is recorded for each request
}

// unary counts, times and logs a unary RPC, and turns a panic of its
// handler into INTERNAL.
func (o *observer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	rs := o.metrics.rpc(info.FullMethod) // Every unary method is served.
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

// stream counts, times and logs a streaming RPC and its messages, and
// turns a panic of its handler into INTERNAL.
func (o *observer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	rs := o.metrics.rpc(info.FullMethod)
	if rs == nil {
		return handler(srv, ss) // The unknown-service handler.
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

// endRPC counts and logs the end of an RPC.
func (o *observer) endRPC(ctx context.Context, rs *rpcSeries, method string, start time.Time, err error) {
	c := status.Code(err)
	if int(c) < len(rs.handled) {
		rs.handled[c].Inc()
	}
	rs.seconds.Observe(time.Since(start).Seconds())
	level := grpcLogLevel(c)
	if !o.logger.Enabled(ctx, level) {
		return
	}
	var more []slog.Attr
	if err != nil {
		more = append(more, slog.String("error", status.Convert(err).Message()))
	}
	o.logger.LogAttrs(ctx, level, "rpc", logAttrs(ctx, method, c.String(), start, peerAddr(ctx), more...)...)
}

// reasonInternal is the ErrorInfo reason, in service.ServiceDomain, of the
// answer to a request whose handler panicked.
var reasonInternal = service.ReasonInternalError

// internalError is the answer to a request whose handler panicked, over
// both transports; internalErrorJSON is its JSON, as the gateway writes
// errors.
var (
	internalError     = service.RequestStatus(codes.Internal, reasonInternal, "internal error", nil, "")
	internalErrorJSON = mustMarshalJSON(internalError.Proto())
)

func mustMarshalJSON(m proto.Message) []byte {
	b, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("server: marshal %T: %v", m, err))
	}
	return b
}

// recovered logs the panic p with its stack and returns the INTERNAL error
// the client gets instead of the end of the process.
func (o *observer) recovered(ctx context.Context, msg string, p any) error {
	o.logger.ErrorContext(ctx, msg, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return internalError.Err()
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

// restRecorder is the ResponseWriter of a REST request: it keeps the
// status code the handler wrote and the route labelRoutes found.
type restRecorder struct {
	http.ResponseWriter
	code    int
	route   string
	tracing bool
	req     *http.Request
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

// spanName names the span of the request by its route, as OpenTelemetry's
// semantic conventions ask: "GET /v1/statuses/{code}".
func (r *restRecorder) spanName(rt *gateway.Route) {
	if !r.tracing {
		return
	}
	span := trace.SpanFromContext(r.req.Context())
	span.SetName(r.req.Method + " " + rt.Template)
	span.SetAttributes(attribute.String("http.route", rt.Template))
}

// rest returns next counted and timed by route, logged, and answering a
// panic with a 500 INTERNAL google.rpc.Status, logged with its stack, as
// unary does for RPCs, so that the connection is answered and the request
// counted and logged. http.ErrAbortHandler is passed on: it is how a
// handler asks net/http to abort the response.
func (o *observer) rest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &restRecorder{ResponseWriter: w, route: routeOther, tracing: o.tracing, req: r}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				o.recovered(r.Context(), "panic in HTTP handler", p)
				w.Header().Set("Content-Type", "application/json")
				rec.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write(internalErrorJSON)
			}
			o.endREST(rec, r, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// endREST counts and logs the end of a REST request: at Debug, or at Error
// for a 500.
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
	if !o.logger.Enabled(ctx, level) {
		return
	}
	o.logger.LogAttrs(ctx, level, "http request", logAttrs(ctx, r.Method, strconv.Itoa(rec.code), start, r.RemoteAddr,
		slog.String("path", r.URL.Path))...)
}
