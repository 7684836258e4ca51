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
	"strings"
	"syscall"
	"time"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// The servers the load benchmark compares, one per mode of `bench serve`.
const (
	modeGRPC      = "grpc"       // tmdbstatus over gRPC: service.New on grpc.NewServer
	modeGRPCFloor = "grpc-floor" // grpc-go's own health server, nothing else
	modeREST      = "rest"       // tmdbstatus over REST: gateway.New, in-process
	modeRESTFloor = "rest-floor" // a plain net/http handler, a fixed JSON body
	modeRESTPeer  = "rest-peer"  // grpc-gateway wired with FromEndpoint: a loopback gRPC hop
)

var modes = []string{modeGRPC, modeGRPCFloor, modeREST, modeRESTFloor, modeRESTPeer}

// codecCache is the -grpc-codec-cache flag of `bench serve`.
var codecCache bool

// serveMain runs one server until SIGINT or SIGTERM, or until -max-time has
// passed, so that a server left behind stops by itself. It prints the
// address it listens on as its first line of output.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	mode := fs.String("mode", "", "server to run: "+strings.Join(modes, ", "))
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	maxTime := fs.Duration("max-time", 30*time.Minute, "stop after this long whatever happens")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.BoolVar(&codecCache, "grpc-codec-cache", false, "in mode grpc, marshal the service's shared responses once (an experiment)")
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
	case modeGRPC:
		srv := service.New()
		var opts []grpc.ServerOption
		if codecCache {
			c, err := newCachingCodec(srv)
			if err != nil {
				return nil, err
			}
			opts = append(opts, grpc.ForceServerCodecV2(c))
		}
		s := grpc.NewServer(opts...)
		tmdbstatusv1.RegisterStatusServiceServer(s, srv)
		return grpcServe(s), nil
	case modeGRPCFloor:
		s := grpc.NewServer()
		h := health.NewServer()
		h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		healthpb.RegisterHealthServer(s, h)
		return grpcServe(s), nil
	case modeREST:
		return httpServe(gateway.New(service.New())), nil
	case modeRESTFloor:
		return httpServe(floorHandler(restFloorSize())), nil
	case modeRESTPeer:
		return peerServe(ctx)
	}
	return nil, fmt.Errorf("unknown -mode %q: want one of %s", mode, strings.Join(modes, ", "))
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

// cachingCodec is grpc-go's proto codec, but for the responses a
// *service.Server shares between calls, whose wire bytes it marshals once.
// It is not how tmdbstatus serves: the load benchmark runs it, with
// -grpc-codec-cache, to measure what caching the bytes would save.
type cachingCodec struct {
	encoding.CodecV2
	static map[any][]byte
}

func newCachingCodec(s *service.Server) (*cachingCodec, error) {
	c := &cachingCodec{CodecV2: encoding.GetCodecV2(protoenc.Name), static: map[any][]byte{}}
	add := func(resp proto.Message, err error) {
		if err != nil {
			return
		}
		if b, err := proto.Marshal(resp); err == nil {
			c.static[resp] = b
		}
	}
	ctx := context.Background()
	add(s.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{}))
	for _, e := range service.Entries() {
		add(s.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: e.TMDBCode()}))
		add(s.Translate(ctx, &tmdbstatusv1.TranslateRequest{StatusCode: e.TMDBCode()}))
	}
	return c, nil
}

// Marshal returns the bytes of v, kept if v is a shared response. They are
// handed out as a SliceBuffer, which grpc-go never recycles.
func (c *cachingCodec) Marshal(v any) (mem.BufferSlice, error) {
	if b, ok := c.static[v]; ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return c.CodecV2.Marshal(v)
}
