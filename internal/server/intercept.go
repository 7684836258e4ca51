package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// observer counts, times and logs every request, and recovers from the
// panics of their handlers: one interceptor and one HTTP handler, as each
// link of a grpc-go chain allocates a closure per call.
type observer struct {
	logger  *slog.Logger
	metrics *metrics
	tracing bool // a span is recorded for each request
}

// unary observes a unary RPC and turns a panic of its handler into
// INTERNAL.
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

// stream observes a streaming RPC and its messages and turns a panic of its
// handler into INTERNAL.
func (o *observer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	rs := o.metrics.rpcs[info.FullMethod]
	if rs == nil {
		// The unknown-service handler: counted as rejected alone, so that a
		// client cannot make new series at will.
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
	o.logger.LogAttrs(ctx, level, "rpc", logAttrs(ctx, method, slog.String("code", c.String()), start, addr, more...)...)
}

// internalError is the answer to a request whose handler panicked, over
// both transports.
var internalError = service.RequestStatus(codes.Internal, service.ReasonInternalError, "internal error", nil, "")

// recovered logs the panic p with its stack and returns the error the
// client gets instead of the end of the process.
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
