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

// commands are bench's subcommands, each given the arguments after its name.
var commands = map[string]func(args []string) error{"run": runMain, "serve": serveMain}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: bench run [flags] | bench serve -mode MODE [flags]")
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
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
	run, err := selectModes(cmp.Or(*profileMode, *only))
	if err != nil {
		return err
	}
	if *profileMode != "" && (len(run) > 1 || run[0].serve != nil) {
		return fmt.Errorf("-profile %s: want a mode of the binary: grpc, grpc-traced, rest or rest-traced", *profileMode)
	}
	for _, tool := range []string{"taskset", "h2load", "wrk", *tmdbstatus} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: BENCHMARKS.md says what to install", err)
		}
	}
	// The references stop by themselves at ctx's deadline, the binary with the benchmark.
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

// measureRounds warms each server up for a second, then measures them all in each round, in
// an order reversed every other round so that a drift falls on both sides of each pair.
func measureRounds(ctx context.Context, servers []*server) (map[string][]sample, error) {
	for _, s := range servers {
		if _, err := s.load(ctx, time.Second, 0); err != nil {
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
			smp, err := measure(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, s.name, err)
			}
			results[s.name] = append(results[s.name], smp)
			fmt.Printf("round %d %s", r+1, row(s.name, smp))
		}
	}
	return results, nil
}

// measure loads s as fast as it answers for -duration, then at -rate for -latency-duration.
func measure(ctx context.Context, s *server) (sample, error) {
	before, err := s.cpuTime()
	if err != nil {
		return sample{}, err
	}
	full, err := s.load(ctx, *duration, 0)
	if err != nil {
		return sample{}, err
	}
	after, err := s.cpuTime()
	if err != nil {
		return sample{}, err
	}
	fixed, err := s.load(ctx, *latDuration, *rate)
	cpu := after - before
	return sample{full.rps, cpu * 1e6 / float64(full.requests), cpu / (float64(full.requests) / full.rps),
		fixed.p50, fixed.p99, fixed.rps}, err
}

// profile measures s, and writes to -profile-out the CPU profile of its full load.
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
		smp, err = measure(ctx, s)
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Printf("%sprofile in %s (go tool pprof -top %s %s)\n", row(s.name, smp), *profileOut, *tmdbstatus, *profileOut)
	return nil
}
