package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
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

// The servers the load benchmark compares. The first four are the
// tmdbstatus binary itself, run by `bench run` with its default flags;
// the others are references, not tmdbstatus' serving stack, each run by
// `bench serve -mode M`.
const (
	modeGRPC       = "grpc"        // the binary's gRPC port
	modeGRPCTraced = "grpc-traced" // the same, exporting spans over OTLP to a collector of the benchmark
	modeREST       = "rest"        // the binary's REST port
	modeRESTTraced = "rest-traced" // the same, exporting spans
	modeGRPCFloor  = "grpc-floor"  // grpc-go's own health server, nothing else
	modeRESTFloor  = "rest-floor"  // a plain net/http handler, a fixed JSON body
	modeRESTPeer   = "rest-peer"   // grpc-gateway wired with FromEndpoint: a loopback gRPC hop
)

var modes = []string{modeGRPC, modeGRPCTraced, modeGRPCFloor, modeREST, modeRESTTraced, modeRESTFloor, modeRESTPeer}

// referenceModes are the modes of `bench serve`.
var referenceModes = []string{modeGRPCFloor, modeRESTFloor, modeRESTPeer}

// isBinary reports whether mode is served by the tmdbstatus binary.
func isBinary(mode string) bool { return !slices.Contains(referenceModes, mode) }

// serveMain runs one server until SIGINT or SIGTERM, or until -max-time has
// passed, so that a server left behind stops by itself. It prints the
// address it listens on as its first line of output.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	mode := fs.String("mode", "", "server to run: "+strings.Join(referenceModes, ", "))
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	maxTime := fs.Duration("max-time", 30*time.Minute, "stop after this long whatever happens")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	_ = fs.Parse(args)

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %s: the load benchmark listens on loopback only", *addr)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer lis.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	run, err := newServer(ctx, *mode)
	if err != nil {
		return err
	}
	fmt.Println(lis.Addr().String())
	return run(ctx, lis)
}

// newServer returns a function that serves mode on a listener until ctx is
// done.
func newServer(ctx context.Context, mode string) (func(context.Context, net.Listener) error, error) {
	switch mode {
	case modeGRPCFloor:
		s := grpc.NewServer()
		h := health.NewServer()
		h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		healthpb.RegisterHealthServer(s, h)
		return grpcServe(s), nil
	case modeRESTFloor:
		return httpServe(floorHandler(restFloorSize())), nil
	case modeRESTPeer:
		return peerServe(ctx)
	}
	return nil, fmt.Errorf("unknown -mode %q: want one of %s", mode, strings.Join(referenceModes, ", "))
}

func grpcServe(s *grpc.Server) func(context.Context, net.Listener) error {
	return func(ctx context.Context, lis net.Listener) error {
		go func() {
			<-ctx.Done()
			s.Stop()
		}()
		return s.Serve(lis)
	}
}

func httpServe(h http.Handler) func(context.Context, net.Listener) error {
	return func(ctx context.Context, lis net.Listener) error {
		s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			<-ctx.Done()
			s.Close()
		}()
		if err := s.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// peerServe serves the REST API the way grpc-gateway's documentation wires
// it: a gRPC server on a loopback port of its own, and a gateway mux with
// its default options that calls it through RegisterStatusServiceHandlerFromEndpoint.
func peerServe(ctx context.Context) (func(context.Context, net.Listener) error, error) {
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gs := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(gs, service.New())
	go func() { _ = gs.Serve(grpcLis) }()
	mux := gwruntime.NewServeMux()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := tmdbstatusv1.RegisterStatusServiceHandlerFromEndpoint(ctx, mux, grpcLis.Addr().String(), opts); err != nil {
		gs.Stop()
		return nil, err
	}
	serve := httpServe(mux)
	return func(ctx context.Context, lis net.Listener) error {
		defer gs.Stop()
		return serve(ctx, lis)
	}, nil
}

// floorHandler answers every request with the same JSON object of size
// bytes, after reading the request body as any handler must.
func floorHandler(size int) http.Handler {
	body := fixedJSON(size)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// fixedJSON returns a JSON object of exactly size bytes (at least 10).
func fixedJSON(size int) []byte {
	const head, tail = `{"pad":"`, `"}`
	n := max(size-len(head)-len(tail), 0)
	return []byte(head + strings.Repeat("x", n) + tail)
}

// restFloorSize is the mean size of tmdbstatus's REST answers to the
// requests of the load's mix, so that the floor writes as many bytes.
func restFloorSize() int {
	h := gateway.New(service.New())
	total := 0
	for _, c := range mix {
		r := httptest.NewRequest(c.method, c.path, bytes.NewReader(c.json))
		if c.json != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		total += w.Body.Len()
	}
	return total / len(mix)
}
