package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"sync/atomic"
	"syscall"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// startBinary starts the tmdbstatus binary o.binary with its default flags
// but its listen addresses (loopback, any port), pinned to o.serverCPU,
// and waits for the addresses it logs. A traced mode exports its spans
// over OTLP/gRPC to collector. The binary dies with the benchmark.
func startBinary(o options, mode, collector string) (*server, error) {
	args := []string{"-c", o.serverCPU, o.binary, "serve",
		"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--admin-addr=127.0.0.1:0"}
	cmd := exec.Command("taskset", args...)
	cmd.Env = os.Environ()
	if mode == modeGRPCTraced || mode == modeRESTTraced {
		cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+collector, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{mode: mode, cmd: cmd}
	addrs := map[string]string{}
	r := bufio.NewReader(logs)
	for len(addrs) < 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("start %s: %w (logged %q)", mode, err, line)
		}
		if m := listeningLine.FindStringSubmatch(line); m != nil {
			addrs[m[1]] = m[2]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	s.addr, s.admin = addrs["HTTP"], addrs["admin"]
	if s.isGRPC() {
		s.addr = addrs["gRPC"]
	}
	return s, nil
}

// listeningLine matches the binary's log line of each server it starts.
var listeningLine = regexp.MustCompile(`msg="(gRPC|HTTP|admin) server listening" addr=(\S+)`)

// collector is an OTLP/gRPC trace collector on loopback that accepts and
// discards spans, counting them: the receiver of the traced modes.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	spans atomic.Int64
	addr  string
	stop  func()
}

// startCollector serves a collector until ctx is done or its stop is called.
func startCollector(ctx context.Context) (*collector, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &collector{addr: lis.Addr().String()}
	s := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(s, c)
	go func() { _ = s.Serve(lis) }()
	stop := context.AfterFunc(ctx, s.Stop)
	c.stop = func() { stop(); s.Stop() }
	return c, nil
}

// Export counts the spans of req and drops them.
func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	var n int64
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += int64(len(ss.GetSpans()))
		}
	}
	c.spans.Add(n)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// waitSpans waits up to d for the collector to have at least n spans, and
// returns how many it has.
func (c *collector) waitSpans(n int64, d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for c.spans.Load() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return c.spans.Load()
}
