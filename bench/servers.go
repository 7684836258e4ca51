package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/procfs"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// mode is a server the benchmark measures.
type mode struct {
	name   string
	grpc   bool // served over gRPC, else REST
	traced bool // the binary exporting its spans to the benchmark's collector
	floor  bool // a framework's no-op floor: it answers anything
	// serve serves a reference, run by `bench serve`; nil for the binary.
	serve func(ctx context.Context, lis net.Listener) error
}

// modes are every server of a run, in the order of BENCHMARKS.md's table.
var modes = []mode{
	{name: "grpc", grpc: true},
	{name: "grpc-traced", grpc: true, traced: true},
	{name: "grpc-floor", grpc: true, floor: true, serve: serveGRPCFloor},
	{name: "rest"},
	{name: "rest-traced", traced: true},
	{name: "rest-floor", floor: true, serve: serveRESTFloor},
	{name: "rest-peer", serve: servePeer},
}

// selectModes returns the modes of the comma-separated list names, or all if it is empty.
func selectModes(names string) ([]mode, error) {
	if names == "" {
		return modes, nil
	}
	var run []mode
	for name := range strings.SplitSeq(names, ",") {
		i := slices.IndexFunc(modes, func(m mode) bool { return m.name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown mode %q: want grpc, grpc-traced, grpc-floor, rest, rest-traced, rest-floor or rest-peer", name)
		}
		run = append(run, modes[i])
	}
	return run, nil
}

// port names the server of the binary that serves m, as its logs do.
func (m mode) port() string {
	if m.grpc {
		return "gRPC"
	}
	return "HTTP"
}

// server is a running server of a mode.
type server struct {
	mode
	cmd   *exec.Cmd // nil for a server in this process
	addr  string    // of the port measured
	admin string    // of the binary's admin port
}

// listening matches the line that the binary and `bench serve` log for each server they start.
var listening = regexp.MustCompile(`msg="(gRPC|HTTP|admin) server listening" addr=(\S+)`)

// start starts m pinned to -server-cpu and waits for the addresses it logs; it gets SIGTERM
// when ctx is done, SIGKILL 10 s later or when the benchmark dies.
func start(ctx context.Context, m mode, collector string) (*server, error) {
	args := []string{*tmdbstatus, "serve",
		"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--admin-addr=127.0.0.1:0"}
	if m.serve != nil {
		deadline, _ := ctx.Deadline()
		maxTime := time.Until(deadline).Round(time.Second).String()
		args = []string{os.Args[0], "serve", "-mode", m.name, "-max-time", maxTime}
	}
	cmd := exec.CommandContext(ctx, "taskset", append([]string{"-c", *serverCPU}, args...)...)
	if m.traced {
		cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+collector, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{mode: m, cmd: cmd}
	lines := bufio.NewScanner(logs)
	for s.addr == "" || (m.serve == nil && s.admin == "") {
		if !lines.Scan() {
			return nil, fmt.Errorf("start %s: exited before it listened: %w", m.name, errors.Join(lines.Err(), cmd.Wait()))
		}
		switch l := listening.FindStringSubmatch(lines.Text()); {
		case l == nil:
		case l[1] == m.port():
			s.addr = l[2]
		case l[1] == "admin":
			s.admin = l[2]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, logs) }()
	return s, nil
}

// startAll starts and checks the servers of run, and returns them with a function that stops them.
func startAll(ctx context.Context, run []mode, collector string) ([]*server, func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	var servers []*server
	stop := sync.OnceFunc(func() {
		cancel()
		for _, s := range servers {
			_ = s.cmd.Wait()
		}
	})
	for _, m := range run {
		s, err := start(ctx, m, collector)
		if err != nil {
			return nil, stop, err
		}
		servers = append(servers, s)
		if err := check(ctx, s); err != nil {
			return nil, stop, err
		}
	}
	return servers, stop, nil
}

// cpuTime returns the user and system CPU seconds that s has used (taskset execs the server).
func (s *server) cpuTime() (float64, error) {
	p, err := procfs.NewProc(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	stat, err := p.Stat()
	return stat.CPUTime(), err
}

// check makes sure that s answers Lookup(7), or a floor anything, before it is measured.
func check(ctx context.Context, s *server) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	answer, err := lookup7(ctx, s)
	if err != nil || (!s.floor && !strings.Contains(answer, "INVALID_API_KEY")) {
		return fmt.Errorf("%s server: Lookup(7) = %q, %v; want INVALID_API_KEY", s.name, answer, err)
	}
	return nil
}

// lookup7 returns the answer of s to Lookup(7), or the gRPC floor's to a health check.
func lookup7(ctx context.Context, s *server) (string, error) {
	if !s.grpc {
		b, err := httpGet(ctx, "http://"+s.addr+"/v1/statuses/7")
		return string(b), err
	}
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if s.floor {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return resp.GetStatus().String(), err
	}
	resp, err := tmdbstatusv1.NewStatusServiceClient(conn).Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7})
	return resp.GetEntry().GetReason(), err
}

// httpGet returns the body of url's 200 answer.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
	}
	return b, err
}

// serveMain serves a reference on loopback, logging its address as the binary does, until
// -max-time or a signal's default action stops it.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	name := fs.String("mode", "", "reference to serve: grpc-floor, rest-floor or rest-peer")
	maxTime := fs.Duration("max-time", 30*time.Minute, "stop after this long whatever happens")
	_ = fs.Parse(args)
	run, err := selectModes(*name)
	if err != nil || len(run) != 1 || run[0].serve == nil {
		return fmt.Errorf("-mode %q: want grpc-floor, rest-floor or rest-peer", *name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The line the binary logs, for one parser of both.
	fmt.Fprintf(os.Stderr, "msg=%q addr=%s\n", run[0].port()+" server listening", lis.Addr())
	return run[0].serve(ctx, lis)
}

// serveGRPC serves impl as the service desc on lis until ctx is done.
func serveGRPC(ctx context.Context, lis net.Listener, desc *grpc.ServiceDesc, impl any) error {
	s := grpc.NewServer()
	s.RegisterService(desc, impl)
	context.AfterFunc(ctx, s.Stop)
	return s.Serve(lis)
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

// serveGRPCFloor serves the gRPC floor: grpc-go's own health server.
func serveGRPCFloor(ctx context.Context, lis net.Listener) error {
	return serveGRPC(ctx, lis, &healthpb.Health_ServiceDesc, health.NewServer())
}

// serveRESTFloor serves the REST floor: a plain net/http handler that reads each request's body
// and answers a JSON object as long as the mean answer of tmdbstatus' gateway to the mix.
func serveRESTFloor(ctx context.Context, lis net.Listener) error {
	gw := gateway.New(service.New())
	size := 0
	for _, c := range mix {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.json))
		if c.json != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, r)
		size += w.Body.Len()
	}
	const head, tail = `{"pad":"`, `"}`
	body := head + strings.Repeat("x", max(size/len(mix)-len(head)-len(tail), 0)) + tail
	return serveHTTP(ctx, lis, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
}

// servePeer serves the REST API wired the common way: a default grpc-gateway mux, FromEndpoint,
// calling a gRPC server on a loopback port.
func servePeer(ctx context.Context, lis net.Listener) error {
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = serveGRPC(ctx, grpcLis, &tmdbstatusv1.StatusService_ServiceDesc, service.New()) }()
	mux := gwruntime.NewServeMux()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := tmdbstatusv1.RegisterStatusServiceHandlerFromEndpoint(ctx, mux, grpcLis.Addr().String(), opts); err != nil {
		return err
	}
	return serveHTTP(ctx, lis, mux)
}

// collector is the OTLP/gRPC trace collector of the traced modes: it counts their spans.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	spans atomic.Int64
}

// serveCollector serves a collector on loopback until ctx is done, and returns its address.
func serveCollector(ctx context.Context) (*collector, string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	c := &collector{}
	go func() { _ = serveGRPC(ctx, lis, &coltracepb.TraceService_ServiceDesc, c) }()
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
