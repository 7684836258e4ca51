package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// startReference serves the reference m in this process on loopback until
// the test ends, and checks it as the benchmark does before measuring it.
func startReference(t *testing.T, m mode) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lis := testutil.Listen(t)
	done := make(chan error, 1)
	go func() { done <- m.serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		testutil.WaitDone(t, m.name+".serve", done)
	})
	s := &server{mode: m, addr: lis.Addr().String()}
	if err := check(testutil.Context(t), s); err != nil {
		t.Fatalf("check(%s) = %v", m.name, err)
	}
	return s
}

// TestReferences checks that every reference answers as the benchmark
// expects before measuring it.
func TestReferences(t *testing.T) {
	for _, m := range modes {
		if m.serve != nil {
			t.Run(m.name, func(t *testing.T) { startReference(t, m) })
		}
	}
}

// TestServeRefuses checks that bench serve refuses, before it listens, a mode
// that is not a reference.
func TestServeRefuses(t *testing.T) {
	for _, args := range [][]string{{"-mode", "grpc"}, {"-mode", "rest-traced"}, {"-mode", "nope"}, {}} {
		if err := serveMain(args); err == nil || !strings.Contains(err.Error(), "want grpc-floor, rest-floor or rest-peer") {
			t.Errorf("serveMain(%q) = %v; want an error naming the references", args, err)
		}
	}
}

// TestRESTFloor checks that the REST floor answers the mix with JSON as long
// as the gateway's mean answer, a few hundred bytes.
func TestRESTFloor(t *testing.T) {
	m, _ := selectModes("rest-floor")
	s := startReference(t, m[0])
	for _, c := range mix {
		req, err := http.NewRequestWithContext(testutil.Context(t), c.method, "http://"+s.addr+c.path, strings.NewReader(c.json))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := len(b); err != nil || n < 100 || n > 2000 || !json.Valid(b) {
			t.Errorf("%s %s: the floor answered %d bytes %.40q..., %v; want 100 to 2000 bytes of JSON", c.method, c.path, n, b, err)
		}
	}
}

func TestGRPCFrame(t *testing.T) {
	msg := &tmdbstatusv1.LookupRequest{Code: 7}
	f := grpcFrame(msg)
	if f[0] != 0 || int(binary.BigEndian.Uint32(f[1:5])) != len(f)-5 {
		t.Fatalf("grpcFrame(%v) = %x: bad prefix", msg, f)
	}
	var got tmdbstatusv1.LookupRequest
	if err := proto.Unmarshal(f[5:], &got); err != nil {
		t.Fatalf("grpcFrame(%v): proto.Unmarshal: %v", msg, err)
	}
	if diff := cmp.Diff(msg, &got, protocmp.Transform()); diff != "" {
		t.Errorf("grpcFrame(%v) holds another message (-want +got):\n%s", msg, diff)
	}
}

func TestPercentileMedian(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(sorted, 50); p != 5 {
		t.Errorf("percentile(1..10, 50) = %v; want 5", p)
	}
	if p := percentile(sorted, 99); p != 10 {
		t.Errorf("percentile(1..10, 99) = %v; want 10", p)
	}
	if m := median([]sample{{p99: 3}, {p99: 1}, {p99: 2}}, p99); m != 2 {
		t.Errorf("median(3, 1, 2) = %v; want 2", m)
	}
	if m := median([]sample{{p99: 4}, {p99: 1}, {p99: 3}, {p99: 2}}, p99); m != 2.5 {
		t.Errorf("median(4, 1, 3, 2) = %v; want 2.5", m)
	}
}

// h2loadOutput is the summary of an h2load run, as h2load 1.52 prints it.
const h2loadOutput = `finished in 5.00s, 27444.20 req/s, 2.13MB/s
requests: 137221 total, 137253 started, 137221 done, 137221 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 137221 2xx, 0 3xx, 0 4xx, 0 5xx
`

func TestParseH2load(t *testing.T) {
	got, err := parseH2load(h2loadOutput)
	if want := (figures{requests: 137221, rps: 27444.20}); err != nil || got != want {
		t.Errorf("parseH2load(...) = %+v, %v; want %+v", got, err, want)
	}
	for _, out := range []string{
		strings.Replace(h2loadOutput, "0 failed", "3 failed", 1),
		strings.Replace(h2loadOutput, "0 errored", "1 errored", 1),
		strings.Replace(h2loadOutput, "0 timeout", "2 timeout", 1),
		"no summary",
	} {
		if got, err := parseH2load(out); err == nil {
			t.Errorf("parseH2load(%q) = %+v, nil; want an error", out, got)
		}
	}
}

// TestLoad runs h2load and wrk against the references for a second, at
// full load and at a fixed rate, all at once.
func TestLoad(t *testing.T) {
	for _, tool := range []string{"taskset", "h2load", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := testutil.Context(t)
	var wg sync.WaitGroup
	for _, name := range []string{"grpc-floor", "rest-floor"} {
		m, _ := selectModes(name)
		s := startReference(t, m[0])
		for _, rate := range []int{0, 100} {
			wg.Go(func() {
				f, err := s.load(ctx, time.Second, rate)
				if err != nil || f.requests == 0 || f.rps <= 0 {
					t.Errorf("load(%s, rate %d) = %+v, %v; want requests answered", name, rate, f, err)
				} else if rate > 0 && (f.p50 <= 0 || f.p99 < f.p50 || f.rps > 1.2*float64(rate)) {
					t.Errorf("load(%s, rate %d) = %+v; want latencies, and at most the rate", name, rate, f)
				}
			})
		}
	}
	wg.Wait()
}

// TestSummarize checks the report's ratios against their targets.
func TestSummarize(t *testing.T) {
	results := map[string][]sample{
		"grpc":       {{reqPerSec: 900, cpuPerReq: 12}, {reqPerSec: 800, cpuPerReq: 10}, {reqPerSec: 950, cpuPerReq: 11}},
		"grpc-floor": {{reqPerSec: 1000, cpuPerReq: 10}},
	}
	report := summarize(results)
	for _, want := range []string{
		"| grpc | 900 | 11.00 |",
		"| grpc-floor | 1000 | 10.00 |",
		"| gRPC requests/s ÷ no-op grpc-go | 0.90 | ≥ 0.90 | yes |",
		"| gRPC CPU/request ÷ no-op grpc-go | 1.10 | ≤ 1.12 | yes |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("summarize(...) lacks %q:\n%s", want, report)
		}
	}
	results["grpc"][0][reqPerSec] = 700
	if report := summarize(results); !strings.Contains(report, "| 0.80 | ≥ 0.90 | no |") || strings.Contains(report, "rest") {
		t.Errorf("summarize(...) with 800 req/s against 1000: want a ratio 0.80 not met, and no REST row:\n%s", report)
	}
}

func TestWriteFigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	doc := "# B\n" + figuresBegin + "\nold\n" + figuresEnd + "\nafter\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFigures(path, "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "# B\n" + figuresBegin + "\nnew\n" + figuresEnd + "\nafter\n"; string(b) != want {
		t.Errorf("writeFigures: the file is %q; want %q", b, want)
	}
	if err := writeFigures(path+".none", "new\n"); err == nil {
		t.Error("writeFigures of a missing file = nil; want an error")
	}
}

// TestBinary runs the tmdbstatus binary as the benchmark does in every
// mode of the binary, all at once, and checks that it answers, and that
// the traced modes, and only they, export spans to the benchmark's
// collector.
func TestBinary(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset not installed")
	}
	*tmdbstatus = testutil.BuildBinary(t)
	ctx := testutil.Context(t)
	var wg sync.WaitGroup
	for _, m := range modes {
		if m.serve != nil {
			continue
		}
		wg.Go(func() {
			col, colAddr, err := serveCollector(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			serverCtx, stop := context.WithCancel(ctx)
			defer stop()
			s, err := start(serverCtx, m, colAddr)
			if err != nil {
				t.Errorf("start(%s): %v", m.name, err)
				return
			}
			if err := check(ctx, s); err != nil {
				t.Errorf("check(%s) = %v", m.name, err)
			}
			stop()
			_ = s.cmd.Wait() // The binary has flushed its spans.
			if got := col.spans.Load(); (got > 0) != m.traced {
				t.Errorf("%s: the collector got %d spans; want some: %v", m.name, got, m.traced)
			}
		})
	}
	wg.Wait()
}
