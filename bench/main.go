// Command bench is the load benchmark of tmdbstatus. `bench run` (what
// `make bench-load` runs) measures the tmdbstatus binary with its default
// flags against the floors of its frameworks and grpc-gateway's usual
// wiring, in one interleaved run on loopback; `bench serve -mode M` runs
// one of those references. BENCHMARKS.md describes the method.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
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

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench run [flags] | bench serve -mode MODE [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runMain(os.Args[2:])
	case "serve":
		err = serveMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want run or serve", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runMain runs the benchmark, or with -profile profiles a server.
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
	col, colAddr, err := serveCollector(ctx)
	if err != nil {
		return err
	}
	servers, stop, err := startAll(ctx, run, colAddr)
	defer stop()
	if err != nil {
		return err
	}
	if *profileMode != "" {
		return profile(ctx, servers[0])
	}
	results, err := measureRounds(ctx, servers)
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

// profile loads s at full load for -duration, and writes to -profile-out
// the CPU profile that the binary serves meanwhile on its admin port.
func profile(ctx context.Context, s *server) error {
	var g errgroup.Group
	g.Go(func() error {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%.0f", s.admin, duration.Seconds())
		b, err := httpGet(ctx, url)
		if err != nil {
			return err
		}
		return os.WriteFile(*profileOut, b, 0o644)
	})
	var smp sample
	g.Go(func() (err error) {
		smp, err = fullLoad(ctx, s, *duration)
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Printf("%s: %.0f req/s, %.2f µs CPU/request; profile in %s (go tool pprof -top %s %s)\n",
		s.name, smp[reqPerSec], smp[cpuPerReq], *profileOut, *tmdbstatus, *profileOut)
	return nil
}
