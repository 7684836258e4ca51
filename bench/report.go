package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

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
	return fmt.Sprintf("| %s | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f |\n",
		name, s[reqPerSec], s[cpuPerReq], s[busy], s[p50], s[p99], s[reached])
}

// comparisons are the pairs of modes whose medians the report divides, with the targets of
// requests/s (≥), CPU per request and p99 (≤); 0 is none.
var comparisons = []struct {
	what, of, to, toWhat   string
	minRPS, maxCPU, maxP99 float64
}{
	{"gRPC", "grpc", "grpc-floor", "no-op grpc-go", 0.90, 1.12, 1.20},
	{"REST", "rest", "rest-floor", "plain net/http JSON", 0.75, 0, 1.20},
	{"REST", "rest", "rest-peer", "FromEndpoint gateway", 3, 0, 0},
	{"gRPC traced", "grpc-traced", "grpc", "untraced", 0, 0, 0},
	{"REST traced", "rest-traced", "rest", "untraced", 0, 0, 0},
}

// summarize returns as Markdown the medians of each mode, and the ratios of the pairs that ran.
func summarize(results map[string][]sample) string {
	medians := map[string]sample{}
	for name, samples := range results {
		var m sample
		for i := range m {
			m[i] = median(samples, i)
		}
		medians[name] = m
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s, %s %s/%s, %d CPUs, %d interleaved rounds; medians.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *rounds)
	fmt.Fprintf(&b, "Full load %v per server and round (h2load: %d calls × %d connections × %d streams; "+
		"wrk: 1 thread, %d connections), latency at %d requests/s for %v.\n\n",
		*duration, len(mix), *grpcConns, *grpcStreams, *restConns, *rate, *latDuration)
	b.WriteString("| server | requests/s | CPU µs/request | server busy | p50 µs | p99 µs | at req/s |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range modes {
		if s, ok := medians[m.name]; ok {
			b.WriteString(row(m.name, s))
		}
	}
	b.WriteString("\n| ratio | median | target | met |\n|---|---:|---|---|\n")
	for _, c := range comparisons {
		of, ok1 := medians[c.of]
		to, ok2 := medians[c.to]
		if ok1 && ok2 {
			b.WriteString(ratio(c.what+" requests/s ÷ "+c.toWhat, of[reqPerSec]/to[reqPerSec], "≥", c.minRPS))
			b.WriteString(ratio(c.what+" CPU/request ÷ "+c.toWhat, of[cpuPerReq]/to[cpuPerReq], "≤", c.maxCPU))
			b.WriteString(ratio(c.what+" p99 at fixed rate ÷ "+c.toWhat, of[p99]/to[p99], "≤", c.maxP99))
		}
	}
	return b.String()
}

// ratio returns the report's row of the ratio v, and whether it is op target (none if 0).
func ratio(name string, v float64, op string, target float64) string {
	if target == 0 {
		return fmt.Sprintf("| %s | %.2f | none | |\n", name, v)
	}
	met := "no"
	if op == "≥" && v >= target || op == "≤" && v <= target {
		met = "yes"
	}
	return fmt.Sprintf("| %s | %.2f | %s %.2f | %s |\n", name, v, op, target, met)
}

// median returns the median of column i of samples.
func median(samples []sample, i int) float64 {
	v := make([]float64, len(samples))
	for j, s := range samples {
		v[j] = s[i]
	}
	slices.Sort(v)
	return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
}

// The markers of the section of BENCHMARKS.md that -write rewrites.
const (
	figuresBegin = "<!-- bench-load figures: begin -->"
	figuresEnd   = "<!-- bench-load figures: end -->"
)

// writeFigures replaces the figures section of the Markdown file path with report.
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
