package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// The flags of `bench run`.
var (
	runFlags    = flag.NewFlagSet("run", flag.ExitOnError)
	rounds      = runFlags.Int("rounds", 5, "interleaved rounds, each running every server once")
	duration    = runFlags.Duration("duration", 5*time.Second, "length of each full-load run")
	latDuration = runFlags.Duration("latency-duration", 3*time.Second, "length of each fixed-rate latency run")
	rate        = runFlags.Int("rate", 2000, "requests/s of the fixed-rate latency runs")
	serverCPU   = runFlags.String("server-cpu", "0", "CPU the servers are pinned to (taskset -c)")
	loadCPU     = runFlags.String("load-cpu", "1", "CPU the load generators are pinned to (taskset -c)")
	grpcConns   = runFlags.Int("grpc-conns", 2, "h2load connections per call of the mix")
	grpcStreams = runFlags.Int("grpc-streams", 16, "h2load concurrent streams per connection")
	restConns   = runFlags.Int("rest-conns", 32, "wrk connections")
	write       = runFlags.String("write", "", "rewrite the figures section of this Markdown file")
	only        = runFlags.String("only", "", "comma-separated modes to run (default all)")
	profileMode = runFlags.String("profile", "", "run only this mode of the binary under full load for -duration, and write its CPU profile")
	profileOut  = runFlags.String("profile-out", "cpu.pprof", "file of the -profile CPU profile")
	tmdbstatus  = runFlags.String("binary", "bin/tmdbstatus", "the tmdbstatus binary to measure (make build)")
)

// runMain runs the benchmark, or with -profile profiles one server.
func runMain(args []string) error {
	_ = runFlags.Parse(args)
	if *rounds < 1 || *rate < 1 || *duration <= 0 || *latDuration <= 0 {
		return errors.New("-rounds, -rate, -duration and -latency-duration must be positive")
	}
	run, err := selectModes()
	if err != nil {
		return err
	}
	for _, tool := range []string{"taskset", "h2load", "wrk", *tmdbstatus} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: BENCHMARKS.md says what to install", err)
		}
	}
	// Every run is bounded: the references stop by themselves at ctx's
	// deadline, the binary with the benchmark.
	perRound := time.Duration(len(modes)) * (*duration + *latDuration + 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*rounds+2)*perRound+2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "tmdbstatus-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeWorkload(dir); err != nil {
		return err
	}
	col, colAddr, err := serveCollector(ctx)
	if err != nil {
		return err
	}

	serversCtx, stopServers := context.WithCancel(ctx)
	var cmds []*exec.Cmd
	stop := sync.OnceFunc(func() {
		stopServers()
		for _, cmd := range cmds {
			_ = cmd.Wait()
		}
	})
	defer stop()
	var servers []*server
	for _, m := range run {
		s, cmd, err := start(serversCtx, m, colAddr)
		if err != nil {
			return err
		}
		cmds = append(cmds, cmd)
		servers = append(servers, s)
		if err := check(ctx, s); err != nil {
			return err
		}
	}
	if *profileMode != "" {
		return profile(ctx, dir, servers[0])
	}
	results, err := measureRounds(ctx, dir, servers)
	if err != nil {
		return err
	}
	stop() // The traced binaries flush their spans.
	if slices.ContainsFunc(run, func(m mode) bool { return m.traced }) {
		if col.spans.Load() == 0 {
			return errors.New("the OTLP collector received no span from the traced modes")
		}
		fmt.Printf("the OTLP collector received %d spans from the traced modes\n", col.spans.Load())
	}
	report := summarize(results)
	fmt.Print("\n" + report)
	if *write != "" {
		return writeFigures(*write, report)
	}
	return nil
}

// selectModes returns the modes that -profile or -only name, or every one.
func selectModes() ([]mode, error) {
	if *profileMode == "" && *only == "" {
		return modes, nil
	}
	var run []mode
	for name := range strings.SplitSeq(cmp.Or(*profileMode, *only), ",") {
		m, err := findMode(name)
		if err != nil {
			return nil, err
		}
		if *profileMode != "" && !m.binary {
			return nil, fmt.Errorf("-profile %s: want a mode of the binary: grpc, grpc-traced, rest or rest-traced", name)
		}
		run = append(run, m)
	}
	return run, nil
}

// measureRounds loads each server for a second to warm it up, then
// measures every server in each round, in turn, in an order reversed every
// other round so that a drift during the run falls on both sides of each
// pair. It returns the samples of each mode.
func measureRounds(ctx context.Context, dir string, servers []*server) (map[string][]sample, error) {
	for _, s := range servers {
		if _, err := s.load(ctx, dir, time.Second, 0); err != nil {
			return nil, fmt.Errorf("warm-up of %s: %w", s.name, err)
		}
	}
	results := map[string][]sample{}
	for r := range *rounds {
		order := slices.Clone(servers)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			smp, err := measure(ctx, dir, s)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, s.name, err)
			}
			results[s.name] = append(results[s.name], smp)
			fmt.Printf("round %d %s", r+1, row(s.name, smp))
		}
	}
	return results, nil
}

// measure loads s as fast as it answers for -duration, then at -rate
// requests/s for -latency-duration.
func measure(ctx context.Context, dir string, s *server) (sample, error) {
	smp, err := fullLoad(ctx, dir, s, *duration)
	if err != nil {
		return smp, err
	}
	f, err := s.load(ctx, dir, *latDuration, *rate)
	smp[p50], smp[p99], smp[reached] = f.p50, f.p99, f.rps
	return smp, err
}

// fullLoad loads s as fast as it answers for d, and returns the requests/s
// and the CPU time of s per request.
func fullLoad(ctx context.Context, dir string, s *server, d time.Duration) (sample, error) {
	var smp sample
	before, err := s.cpuTime()
	if err != nil {
		return smp, err
	}
	f, err := s.load(ctx, dir, d, 0)
	if err != nil {
		return smp, err
	}
	after, err := s.cpuTime()
	if err != nil {
		return smp, err
	}
	seconds := float64(f.requests) / f.rps
	smp[reqPerSec], smp[cpuPerReq], smp[busy] = f.rps, (after-before)*1e6/float64(f.requests), (after-before)/seconds
	return smp, nil
}

// profile loads s, a server of the binary, as fast as it answers for
// -duration, and writes to -profile-out the CPU profile that s serves on
// its admin port meanwhile.
func profile(ctx context.Context, dir string, s *server) error {
	var g errgroup.Group
	g.Go(func() error {
		b, err := httpGet(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%s", s.admin, strings.TrimSuffix(secs(*duration), "s")))
		if err != nil {
			return err
		}
		return os.WriteFile(*profileOut, b, 0o644)
	})
	var smp sample
	g.Go(func() (err error) {
		smp, err = fullLoad(ctx, dir, s, *duration)
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Printf("%s: %.0f req/s, %.2f µs CPU/request; profile in %s (go tool pprof -top %s %s)\n",
		s.name, smp[reqPerSec], smp[cpuPerReq], *profileOut, *tmdbstatus, *profileOut)
	return nil
}

// sample is what a round measured on a server: the report's columns.
type sample [6]float64

// The columns of a sample.
const (
	reqPerSec = iota // requests/s at full load
	cpuPerReq        // the server's CPU µs per request at full load
	busy             // the server's CPU time at full load ÷ its length: 1.00 when it was the bottleneck
	p50              // latency at the fixed rate, µs
	p99              // latency at the fixed rate, µs
	reached          // the fixed rate reached, requests/s
)

// row returns the report's row of s.
func row(name string, s sample) string {
	return fmt.Sprintf("| %s | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f |\n", name, s[reqPerSec], s[cpuPerReq], s[busy], s[p50], s[p99], s[reached])
}

// ratios are the report's ratios of a server's medians to another's, with
// their targets.
var ratios = []struct {
	name   string
	of, to string // modes
	column int
	op     string // "≥", "≤", or "" for no target
	target float64
}{
	{"gRPC requests/s ÷ no-op grpc-go", "grpc", "grpc-floor", reqPerSec, "≥", 0.90},
	{"gRPC CPU/request ÷ no-op grpc-go", "grpc", "grpc-floor", cpuPerReq, "≤", 1.12},
	{"REST requests/s ÷ plain net/http JSON", "rest", "rest-floor", reqPerSec, "≥", 0.75},
	{"REST requests/s ÷ FromEndpoint gateway", "rest", "rest-peer", reqPerSec, "≥", 3},
	{"gRPC p99 at fixed rate ÷ no-op grpc-go's", "grpc", "grpc-floor", p99, "≤", 1.2},
	{"REST p99 at fixed rate ÷ plain net/http's", "rest", "rest-floor", p99, "≤", 1.2},
	{"REST CPU/request ÷ plain net/http JSON", "rest", "rest-floor", cpuPerReq, "", 0},
	{"REST CPU/request ÷ FromEndpoint gateway", "rest", "rest-peer", cpuPerReq, "", 0},
	{"gRPC traced requests/s ÷ untraced", "grpc-traced", "grpc", reqPerSec, "", 0},
	{"gRPC traced CPU/request ÷ untraced", "grpc-traced", "grpc", cpuPerReq, "", 0},
	{"REST traced requests/s ÷ untraced", "rest-traced", "rest", reqPerSec, "", 0},
	{"REST traced CPU/request ÷ untraced", "rest-traced", "rest", cpuPerReq, "", 0},
}

// summarize returns as Markdown the medians of every mode's samples, and
// their ratios.
func summarize(results map[string][]sample) string {
	medians := map[string]sample{}
	for name, samples := range results {
		var m sample
		for i := range m {
			var v []float64
			for _, s := range samples {
				v = append(v, s[i])
			}
			m[i] = median(v)
		}
		medians[name] = m
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s, %s %s/%s, %d CPUs (shared with other work), %d interleaved rounds; medians.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *rounds)
	fmt.Fprintf(&b, "Full load %v per server and round (h2load: %d calls × %d connections × %d streams; wrk: 1 thread, %d connections), latency at %d requests/s for %v.\n\n",
		*duration, len(mix), *grpcConns, *grpcStreams, *restConns, *rate, *latDuration)
	b.WriteString("| server | requests/s | CPU µs/request | server busy | p50 µs | p99 µs | at req/s |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range modes {
		if s, ok := medians[m.name]; ok {
			b.WriteString(row(m.name, s))
		}
	}
	b.WriteString("\n| ratio | median | target | met |\n|---|---:|---|---|\n")
	for _, r := range ratios {
		of, ok1 := medians[r.of]
		to, ok2 := medians[r.to]
		if !ok1 || !ok2 {
			continue
		}
		v := of[r.column] / to[r.column]
		target, met := "none", ""
		if r.op != "" {
			target, met = fmt.Sprintf("%s %.2f", r.op, r.target), "no"
			if r.op == "≥" && v >= r.target || r.op == "≤" && v <= r.target {
				met = "yes"
			}
		}
		fmt.Fprintf(&b, "| %s | %.2f | %s | %s |\n", r.name, v, target, met)
	}
	return b.String()
}

// median returns the median of v, which it sorts.
func median(v []float64) float64 {
	slices.Sort(v)
	return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
}

// The markers of the section of BENCHMARKS.md that -write rewrites.
const (
	figuresBegin = "<!-- bench-load figures: begin -->"
	figuresEnd   = "<!-- bench-load figures: end -->"
)

// writeFigures replaces the figures section of the Markdown file path
// with report.
func writeFigures(path, report string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok1 := strings.Cut(string(b), figuresBegin)
	_, after, ok2 := strings.Cut(rest, figuresEnd)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: no %s ... %s section", path, figuresBegin, figuresEnd)
	}
	return os.WriteFile(path, []byte(before+figuresBegin+"\n"+report+figuresEnd+after), 0o644)
}
