package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
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

// start starts m pinned to -server-cpu (the binary with its default flags
// but its listen addresses, or `bench serve`) and waits for the addresses
// it logs. It gets SIGTERM when ctx is done, SIGKILL 10 s later or when
// the benchmark dies; a reference also stops by itself at ctx's deadline.
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
