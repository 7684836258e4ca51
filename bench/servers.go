package main

import (
	"bufio"
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
	"os/exec"
	"os/signal"
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
	binary bool // the tmdbstatus binary, else a reference run by `bench serve`
	traced bool // the binary exporting its spans to the benchmark's collector
	floor  bool // a framework's no-op floor: it answers anything
}

// modes are every server of a run, in the order of BENCHMARKS.md's table.
var modes = []mode{
	{name: "grpc", grpc: true, binary: true},
	{name: "grpc-traced", grpc: true, binary: true, traced: true},
	{name: "grpc-floor", grpc: true, floor: true},
	{name: "rest", binary: true},
	{name: "rest-traced", binary: true, traced: true},
	{name: "rest-floor", floor: true},
	{name: "rest-peer"},
}

// port names the server of the binary that serves m, as its logs do.
func (m mode) port() string {
	if m.grpc {
		return "gRPC"
	}
	return "HTTP"
}

// findMode returns the mode called name.
func findMode(name string) (mode, error) {
	i := slices.IndexFunc(modes, func(m mode) bool { return m.name == name })
	if i < 0 {
		return mode{}, fmt.Errorf("unknown mode %q: want grpc, grpc-traced, grpc-floor, rest, rest-traced, rest-floor or rest-peer", name)
	}
	return modes[i], nil
}

// server is a running server of a mode.
type server struct {
	mode
	cmd   *exec.Cmd // nil for a server in this process
	pid   int
	addr  string // of the port measured
	admin string // of the binary's admin port
}

// listening matches the line that the binary, and `bench serve`, log for
// each server they start.
var listening = regexp.MustCompile(`msg="(gRPC|HTTP|admin) server listening" addr=(\S+)`)

// start starts the server of m pinned to -server-cpu (the binary with its
// default flags but its listen addresses, or `bench serve`) and waits for
// the addresses it logs. The server gets SIGTERM when ctx is done, and
// SIGKILL 10 s later or when the benchmark dies; a reference also stops by
// itself at ctx's deadline.
func start(ctx context.Context, m mode, collector string) (*server, error) {
	deadline, _ := ctx.Deadline()
	args := []string{"-c", *serverCPU, *tmdbstatus, "serve",
		"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--admin-addr=127.0.0.1:0"}
	if !m.binary {
		args = []string{"-c", *serverCPU, os.Args[0], "serve", "-mode", m.name,
			"-max-time", time.Until(deadline).Round(time.Second).String()}
	}
	cmd := exec.CommandContext(ctx, "taskset", args...)
	cmd.Env = os.Environ()
	if m.traced {
		cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+collector, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
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
	// taskset execs the server, so its pid is the server's.
	s := &server{mode: m, cmd: cmd, pid: cmd.Process.Pid}
	lines := bufio.NewScanner(logs)
	for s.addr == "" || (m.binary && s.admin == "") {
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
	go func() {
		for lines.Scan() {
		}
	}()
	return s, nil
}

// startAll starts and checks the servers of run, and returns them with the
// function that stops them and waits for them to exit.
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

// cpuTime returns the user and system CPU seconds that s has used.
func (s *server) cpuTime() (float64, error) {
	p, err := procfs.NewProc(s.pid)
	if err != nil {
		return 0, err
	}
	stat, err := p.Stat()
	return stat.CPUTime(), err
}

// check makes sure that s answers Lookup(7), a floor anything, before it
// is measured.
func check(ctx context.Context, s *server) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	answer, err := lookup7(ctx, s)
	if err != nil || (!s.floor && !strings.Contains(answer, "INVALID_API_KEY")) {
		return fmt.Errorf("%s server: Lookup(7) = %q, %v; want INVALID_API_KEY", s.name, answer, err)
	}
	return nil
}

// lookup7 returns the answer of s to Lookup(7), or the gRPC floor's to a
// health check.
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

// serveMain serves a reference on a loopback port until SIGINT or SIGTERM,
// or until -max-time has passed, so that one left behind stops by itself.
// It logs its address as the binary does.
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
	serve, err := reference(ctx, m)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info(m.port()+" server listening", "addr", lis.Addr())
	if err := serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// reference returns the function that serves the reference m on a
// listener until ctx is done. None of them is tmdbstatus' serving stack,
// which only internal/server assembles.
func reference(ctx context.Context, m mode) (func(net.Listener) error, error) {
	switch m.name {
	case "grpc-floor":
		s := grpc.NewServer()
		healthpb.RegisterHealthServer(s, health.NewServer())
		context.AfterFunc(ctx, s.Stop)
		return s.Serve, nil
	case "rest-floor":
		return serveHTTP(ctx, floorHandler()), nil
	case "rest-peer":
		return peer(ctx)
	}
	return nil, fmt.Errorf("-mode %s: not a reference: want grpc-floor, rest-floor or rest-peer", m.name)
}

// peer serves the REST API the way grpc-gateway's documentation wires it:
// a default gateway mux calling, through
// RegisterStatusServiceHandlerFromEndpoint, a gRPC server on a loopback
// port of its own.
func peer(ctx context.Context) (func(net.Listener) error, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(s, service.New())
	context.AfterFunc(ctx, s.Stop)
	go func() { _ = s.Serve(lis) }()
	mux := gwruntime.NewServeMux()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := tmdbstatusv1.RegisterStatusServiceHandlerFromEndpoint(ctx, mux, lis.Addr().String(), opts); err != nil {
		return nil, err
	}
	return serveHTTP(ctx, mux), nil
}

// serveHTTP returns the function that serves h on a listener until ctx
// is done.
func serveHTTP(ctx context.Context, h http.Handler) func(net.Listener) error {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	context.AfterFunc(ctx, func() { s.Close() })
	return s.Serve
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
