package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// shutdownTimeout bounds each server's graceful shutdown; the servers shut
// down side by side, so within one shutdownTimeout in all, well inside
// Kubernetes' default grace period of 30 s. A server still busy after it is
// stopped hard, and serve returns an error.
const shutdownTimeout = 10 * time.Second

// serve serves StatusService over gRPC on grpcLis and over REST/JSON on
// httpLis until ctx is done or a server fails, then shuts both servers
// down and closes the listeners. It returns nil after a clean shutdown
// that ctx started.
func serve(ctx context.Context, logger *slog.Logger, grpcLis, httpLis net.Listener) error {
	srv := service.New()

	grpcServer := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(grpcServer, srv)
	healthServer := health.NewServer()
	healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthServer.SetServingStatus(tmdbstatusv1.StatusService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(grpcServer, healthServer)
	reflection.Register(grpcServer)

	httpServer := &http.Server{
		Handler:           gateway.New(srv),
		ReadHeaderTimeout: 5 * time.Second,
		// A body is at most gateway.DefaultMaxBodyBytes (4 MiB), and every
		// RPC answers from memory: seconds are plenty for both.
		ReadTimeout:  15 * time.Second,
		WriteTimeout: 15 * time.Second,
		IdleTimeout:  time.Minute,
		// net/http's own errors (a failed Accept, a bad TLS handshake).
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		logger.Info("gRPC server listening", "addr", grpcLis.Addr().String())
		// Serve returns nil once stopped, or ErrServerStopped if it was
		// stopped before it started.
		if err := grpcServer.Serve(grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("gRPC server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		logger.Info("HTTP server listening", "addr", httpLis.Addr().String())
		if err := httpServer.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("HTTP server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		logger.Info("shutting down", "cause", context.Cause(ctx).Error())
		// Tell health checkers first; new RPCs are refused from here on.
		healthServer.Shutdown()
		return stopGRPC(grpcServer, shutdownTimeout)
	})
	g.Go(func() error {
		<-ctx.Done()
		return stopHTTP(context.WithoutCancel(ctx), httpServer, shutdownTimeout)
	})
	return g.Wait()
}

// stopGRPC stops s gracefully: it waits for the RPCs in flight to finish.
// If they have not after timeout, it cancels them and returns an error.
func stopGRPC(s *grpc.Server, timeout time.Duration) error {
	stopped := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-time.After(timeout):
		s.Stop() // GracefulStop returns too.
		<-stopped
		return fmt.Errorf("gRPC server: RPCs still running after %v: stopped them", timeout)
	}
}

// stopHTTP shuts s down gracefully: it waits for the requests in flight to
// finish. If they have not after timeout, it closes their connections and
// returns an error.
func stopHTTP(ctx context.Context, s *http.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		s.Close()
		return fmt.Errorf("HTTP server: requests still running after %v: closed them: %w", timeout, err)
	}
	return nil
}
