package server

import (
	"context"
	"crypto/tls"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/tap"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// newGRPCServer returns the gRPC server of srv, observed by o, and its
// health server, whose Watch streams end when draining is done; tp and tc,
// if not nil, trace it and give it TLS.
func newGRPCServer(cfg Config, o *observer, tc *tls.Config, tp trace.TracerProvider, srv tmdbstatusv1.StatusServiceServer, draining context.Context) (*grpc.Server, *health.Server) {
	rejected := o.metrics.rejected
	opts := []grpc.ServerOption{
		grpc.UnaryInterceptor(o.unary),
		grpc.ChainStreamInterceptor(o.stream, endWatchOnDrain(draining)),
		grpc.InTapHandle(requestDeadline(cfg.RequestTimeout, o.metrics.rpcs)),
		grpc.UnknownServiceHandler(rejected.unknownService),
		grpc.MaxRecvMsgSize(cfg.GRPCMaxRecvBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.MaxHeaderListSize(cfg.MaxHeaderListBytes),
		grpc.ConnectionTimeout(cfg.ConnectionTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             cfg.KeepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:                  cfg.KeepaliveTime,
			Timeout:               cfg.KeepaliveTimeout,
			MaxConnectionIdle:     cfg.MaxConnectionIdle,
			MaxConnectionAge:      cfg.MaxConnectionAge,
			MaxConnectionAgeGrace: cfg.MaxConnectionAgeGrace,
		}),
	}
	if tp != nil {
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagator))))
	}
	if tc != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	s := grpc.NewServer(opts...)
	s.RegisterService(rejected.countDecodeFailures(&tmdbstatusv1.StatusService_ServiceDesc), srv)
	hs := health.NewServer()
	hs.SetServingStatus(tmdbstatusv1.StatusService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	s.RegisterService(rejected.countDecodeFailures(&healthpb.Health_ServiceDesc), hs)
	if cfg.Reflection {
		reflection.Register(s)
	}
	o.metrics.resolveGRPC(s)
	return s, hs
}

// requestDeadline returns the tap giving a unary RPC of rpcs the deadline
// timeout from the moment its stream opens (see doc.go).
func requestDeadline(timeout time.Duration, rpcs map[string]*rpcSeries) tap.ServerInHandle {
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		if rs := rpcs[info.FullMethodName]; rs == nil || rs.streaming {
			return ctx, nil
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		_ = cancel // The stream's end cancels ctx's parent, which stops the timer.
		return ctx, nil
	}
}

// endWatchOnDrain ends the health Watch streams, which GracefulStop would
// wait for, once draining is done.
func endWatchOnDrain(draining context.Context) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != healthpb.Health_Watch_FullMethodName {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		defer context.AfterFunc(draining, cancel)()
		wrapped := middleware.WrapServerStream(ss)
		wrapped.WrappedContext = ctx
		return handler(srv, wrapped)
	}
}
