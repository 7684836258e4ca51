package main

import (
	"context"
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// call is a request of the mix: msg to grpcMethod over gRPC, json to method and path over REST.
type call struct {
	grpcMethod string
	msg        proto.Message
	method     string
	path       string
	json       string // empty for a GET
}

// mix is the load, in equal parts: Lookup found and not, Translate of a raw TMDB body (answered
// from the table) and of a rate limit (built per call).
var mix = []call{
	lookup(7),
	lookup(99),
	translate(&tmdbstatusv1.TranslateRequest{HttpStatus: 404,
		Body: `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`}),
	translate(&tmdbstatusv1.TranslateRequest{StatusCode: 25, HttpStatus: 429, RetryAfter: "10"}),
}

func lookup(code int32) call {
	return call{grpcMethod: tmdbstatusv1.StatusService_Lookup_FullMethodName, msg: &tmdbstatusv1.LookupRequest{Code: code},
		method: http.MethodGet, path: fmt.Sprintf("/v1/statuses/%d", code)}
}

func translate(req *tmdbstatusv1.TranslateRequest) call {
	body, err := protojson.Marshal(req)
	if err != nil {
		panic(err)
	}
	return call{grpcMethod: tmdbstatusv1.StatusService_Translate_FullMethodName, msg: req,
		method: http.MethodPost, path: "/v1/statuses:translate", json: string(body)}
}

// grpcFrame returns msg as the body of a unary gRPC request: one uncompressed length-prefixed message.
func grpcFrame(msg proto.Message) []byte {
	b, err := proto.Marshal(msg)
	if err != nil {
		panic(err)
	}
	frame := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(b)))
	return append(frame, b...)
}

// figures are what a load generator measured on a server.
type figures struct {
	requests int     // answered
	rps      float64 // requests/s
	p50, p99 float64 // latency at a fixed rate, µs
}

// load runs the load generator of s for d: as fast as s answers, or at rate requests/s.
func (s *server) load(ctx context.Context, d time.Duration, rate int) (figures, error) {
	dir, err := os.MkdirTemp("", "tmdbstatus-bench-")
	if err != nil {
		return figures{}, err
	}
	defer os.RemoveAll(dir)
	if s.grpc {
		return h2load(ctx, dir, s, d, rate)
	}
	return wrk(ctx, dir, s, d, rate)
}

// generate runs a load generator pinned to -load-cpu, and returns its output.
func generate(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "taskset", append([]string{"-c", *loadCPU}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", args[0], err, out)
	}
	return string(out), nil
}

// h2load runs one h2load per call of the mix at once (the gRPC floor gets health checks);
// with a rate, an open loop on two connections per call.
func h2load(ctx context.Context, dir string, s *server, d time.Duration, rate int) (figures, error) {
	runs := make([]figures, len(mix))
	g, ctx := errgroup.WithContext(ctx)
	for i, c := range mix {
		if s.floor {
			c.grpcMethod, c.msg = healthpb.Health_Check_FullMethodName, &healthpb.HealthCheckRequest{}
		}
		body := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(body, grpcFrame(c.msg), 0o644); err != nil {
			return figures{}, err
		}
		args := []string{"h2load", "-t", "1", "-D", secs(d), "-d", body,
			"-H", "content-type: application/grpc", "-H", "te: trailers"}
		if rate == 0 {
			args = append(args, "-c", strconv.Itoa(*grpcConns), "-m", strconv.Itoa(*grpcStreams))
		} else {
			perClient := max(1, rate/(2*len(mix)))
			args = append(args, "-c", "2", "-m", "1", "--rps", strconv.Itoa(perClient), "--log-file", body+".log")
		}
		g.Go(func() error {
			out, err := generate(ctx, append(args, "http://"+s.addr+c.grpcMethod)...)
			if err == nil {
				runs[i], err = parseH2load(out)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return figures{}, err
	}
	var f figures
	for _, r := range runs {
		f.requests += r.requests
		f.rps += r.rps
	}
	lat, err := h2loadLatencies(dir)
	f.p50, f.p99 = percentile(lat, 50), percentile(lat, 99)
	return f, err
}

// h2loadSummary matches h2load's requests/s, then its requests done, failed, errored and timed out.
var h2loadSummary = regexp.MustCompile(`(?s)finished in \S+ (\d+\.\d+) req/s.*` +
	`requests: .* (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)

// parseH2load returns the figures of h2load's output, or an error if a request failed at the
// HTTP/2 level (a gRPC error is an answer).
func parseH2load(out string) (figures, error) {
	switch m := h2loadSummary.FindStringSubmatch(out); {
	case m == nil:
		return figures{}, fmt.Errorf("h2load: unexpected output: %s", out)
	case m[3] != "0" || m[4] != "0" || m[5] != "0":
		return figures{}, fmt.Errorf("h2load: %s failed, %s errored, %s timed out: %s", m[3], m[4], m[5], out)
	default:
		rps, _ := strconv.ParseFloat(m[1], 64) // The pattern matched numbers.
		done, _ := strconv.Atoi(m[2])
		return figures{requests: done, rps: rps}, nil
	}
}

// h2loadLatencies returns, sorted, the µs of each answered request in the h2load --log-files of
// dir, whose lines are: start, HTTP status, µs to the answer's end.
func h2loadLatencies(dir string) ([]float64, error) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log")) // The pattern is valid.
	var lat []float64
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) == 3 && f[1] == "200" {
				v, err := strconv.ParseFloat(f[2], 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
				lat = append(lat, v)
			}
		}
	}
	slices.Sort(lat)
	return lat, nil
}

// wrkScript is the wrk script that sends the mix, given as its arguments.
//
//go:embed mix.lua
var wrkScript []byte

// wrk runs wrk on one thread with wrkScript; with a rate, a closed loop: each of 8 connections
// waits a fixed delay between its requests.
func wrk(ctx context.Context, dir string, s *server, d time.Duration, rate int) (figures, error) {
	script := filepath.Join(dir, "mix.lua")
	if err := os.WriteFile(script, wrkScript, 0o644); err != nil {
		return figures{}, err
	}
	conns, delayMS := *restConns, 0
	if rate > 0 {
		conns, delayMS = 8, max(1, int(math.Round(8*1000/float64(rate))))
	}
	args := []string{"wrk", "-t", "1", "-c", strconv.Itoa(conns), "-d", secs(d),
		"-s", script, "http://" + s.addr, "--", strconv.Itoa(delayMS)}
	for _, c := range mix {
		args = append(args, c.method, c.path, c.json)
	}
	out, err := generate(ctx, args...)
	if err != nil {
		return figures{}, err
	}
	var f figures
	var socketErrors int
	_, summary, _ := strings.Cut(out, "\nmix.lua:")
	_, err = fmt.Sscan(summary, &f.requests, &f.rps, &socketErrors, &f.p50, &f.p99)
	if err != nil || socketErrors > 0 || f.requests == 0 {
		return figures{}, fmt.Errorf("wrk: %d socket errors, %d requests (%v): %s", socketErrors, f.requests, err, out)
	}
	return f, nil
}

// secs returns d in whole seconds, rounded up, as both load generators read it.
func secs(d time.Duration) string { return strconv.Itoa(int(math.Ceil(d.Seconds()))) + "s" }

// percentile returns the p-th percentile of sorted by nearest rank, NaN if it is empty.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return sorted[max(int(math.Ceil(p/100*float64(len(sorted))))-1, 0)]
}
