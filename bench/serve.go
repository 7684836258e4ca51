package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// serveMain serves a reference on a loopback port, logging its address as
// the binary does, until SIGINT or SIGTERM or until -max-time has passed,
// so that one left behind stops by itself.
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
	if err != nil {
		return err
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
	return errors.New("-mode " + m.name + ": not a reference: want grpc-floor, rest-floor or rest-peer")
}

// servePeer serves the REST API the way grpc-gateway's documentation
// wires it: a default gateway mux calling, through
// RegisterStatusServiceHandlerFromEndpoint, a gRPC server on a loopback
// port of its own.
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

// floorHandler answers every request, once it has read its body, with a
// JSON object as long as the mean answer of tmdbstatus' gateway to the
// mix, so that the floor writes as many bytes.
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
