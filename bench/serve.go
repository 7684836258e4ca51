package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// collector is an OTLP/gRPC trace collector, the receiver of the traced
// modes: it counts the spans it is sent and drops them.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	spans atomic.Int64
}

// serveCollector serves a collector on loopback until ctx is done, and
// returns it with its address.
func serveCollector(ctx context.Context) (*collector, string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	c := &collector{}
	s := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(s, c)
	context.AfterFunc(ctx, s.Stop)
	go func() { _ = s.Serve(lis) }()
	return c, lis.Addr().String(), nil
}

// Export counts the spans of req.
func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans.Add(int64(len(ss.GetSpans())))
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// serveMain serves a reference on loopback, logging its address as the
// binary does, until SIGINT, SIGTERM or -max-time, whichever comes first.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	name := fs.String("mode", "", "reference to serve: grpc-floor, rest-floor or rest-peer")
	maxTime := fs.Duration("max-time", 30*time.Minute, "stop after this long whatever happens")
	_ = fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()

	m, err := findMode(*name)
	if err != nil || m.binary {
		return fmt.Errorf("-mode %q: want grpc-floor, rest-floor or rest-peer", *name)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info(m.port()+" server listening", "addr", lis.Addr())
	return serveReference(ctx, m, lis)
}

// serveReference serves the reference m on lis until ctx is done. None of
// them is tmdbstatus' serving stack, which only internal/server assembles.
func serveReference(ctx context.Context, m mode, lis net.Listener) error {
	switch m.name {
	case "grpc-floor":
		s := grpc.NewServer()
		healthpb.RegisterHealthServer(s, health.NewServer())
		context.AfterFunc(ctx, s.Stop)
		return s.Serve(lis)
	case "rest-floor":
		return serveHTTP(ctx, lis, floorHandler())
	case "rest-peer":
		return servePeer(ctx, lis)
	}
	return errors.New(m.name + " is not a reference")
}

// servePeer serves the REST API wired as grpc-gateway's documentation does:
// a default mux, FromEndpoint, calling a gRPC server on a loopback port.
func servePeer(ctx context.Context, lis net.Listener) error {
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(s, service.New())
	context.AfterFunc(ctx, s.Stop)
	go func() { _ = s.Serve(grpcLis) }()
	mux := gwruntime.NewServeMux()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := tmdbstatusv1.RegisterStatusServiceHandlerFromEndpoint(ctx, mux, grpcLis.Addr().String(), opts); err != nil {
		return err
	}
	return serveHTTP(ctx, lis, mux)
}

// serveHTTP serves h on lis until ctx is done.
func serveHTTP(ctx context.Context, lis net.Listener, h http.Handler) error {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	context.AfterFunc(ctx, func() { s.Close() })
	if err := s.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floorHandler reads each request's body and answers a JSON object as
// long as the mean answer of tmdbstatus' gateway to the mix.
func floorHandler() http.Handler {
	gw := gateway.New(service.New())
	size := 0
	for _, c := range mix {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, c.httpRequest())
		size += w.Body.Len()
	}
	const head, tail = `{"pad":"`, `"}`
	body := head + strings.Repeat("x", max(size/len(mix)-len(head)-len(tail), 0)) + tail
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
}
