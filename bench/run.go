package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// options are the flags of `bench run`.
type options struct {
	rounds      int
	duration    time.Duration // of each throughput run
	latDuration time.Duration // of each fixed-rate run
	rate        int           // requests/s of the fixed-rate runs, all clients together
	serverCPU   string        // taskset CPU list of the servers
	loadCPU     string        // taskset CPU list of the load generators
	grpcConns   int           // h2load connections per call of the mix
	grpcStreams int           // h2load concurrent streams per connection
	restConns   int           // wrk connections
	write       string        // Markdown file whose figures section to rewrite
	only        string        // comma-separated modes to run, default all
	profileMode string        // mode to run alone under a CPU profile
	profileOut  string        // where to write that profile
	binary      string        // the tmdbstatus binary the binary modes run
	collector   *collector    // the OTLP receiver of the traced modes
}

func runMain(args []string) error {
	var o options
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.IntVar(&o.rounds, "rounds", 5, "interleaved rounds (each runs every server once)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each throughput run")
	fs.DurationVar(&o.latDuration, "latency-duration", 3*time.Second, "length of each fixed-rate latency run")
	fs.IntVar(&o.rate, "rate", 2000, "requests/s of the fixed-rate latency runs")
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "CPU the servers are pinned to (taskset -c)")
	fs.StringVar(&o.loadCPU, "load-cpu", "1", "CPU the load generators are pinned to (taskset -c)")
	fs.IntVar(&o.grpcConns, "grpc-conns", 2, "h2load connections per call of the mix")
	fs.IntVar(&o.grpcStreams, "grpc-streams", 16, "h2load concurrent streams per connection")
	fs.IntVar(&o.restConns, "rest-conns", 32, "wrk connections")
	fs.StringVar(&o.write, "write", "", "rewrite the figures section of this Markdown file")
	fs.StringVar(&o.only, "only", "", "comma-separated modes to run (default all)")
	calls := fs.String("calls", "", "comma-separated calls of the mix to send (default all): "+callNames())
	fs.StringVar(&o.profileMode, "profile", "", "run only this mode, under load for -duration, and write its CPU profile")
	fs.StringVar(&o.profileOut, "profile-out", "cpu.pprof", "file of the -profile CPU profile")
	fs.StringVar(&o.binary, "binary", "bin/tmdbstatus", "the tmdbstatus binary to measure (go build -o bin/tmdbstatus ./cmd/tmdbstatus)")
	_ = fs.Parse(args)
	if o.rounds < 1 || o.rate < 1 || o.duration <= 0 || o.latDuration <= 0 {
		return errors.New("-rounds, -rate, -duration and -latency-duration must be positive")
	}
	if *calls != "" {
		var keep []call
		for name := range strings.SplitSeq(*calls, ",") {
			i := slices.IndexFunc(mix, func(c call) bool { return c.name == name })
			if i < 0 {
				return fmt.Errorf("-calls: no call %q in the mix: %s", name, callNames())
			}
			keep = append(keep, mix[i])
		}
		mix = keep
	}
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("-binary: %w: build it with go build -o %s ./cmd/tmdbstatus", err, o.binary)
	}
	for _, tool := range []string{"taskset", "h2load", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: see BENCHMARKS.md for the tools to install", tool)
		}
	}

	// Every run is bounded: the servers stop by themselves after maxTime.
	perRound := time.Duration(len(modes)) * (o.duration + o.latDuration + 2*time.Second)
	maxTime := time.Duration(o.rounds+2)*perRound + 2*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), maxTime)
	defer cancel()

	dir, err := os.MkdirTemp("", "tmdbstatus-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := newWorkload(dir)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}

	col, err := startCollector(ctx)
	if err != nil {
		return err
	}
	defer col.stop()
	o.collector = col

	if o.profileMode != "" {
		return profile(ctx, o, w, exe, maxTime)
	}

	run := modes
	if o.only != "" {
		run = strings.Split(o.only, ",")
	}
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, m := range run {
		s, err := startServer(o, exe, m, maxTime, "")
		if err != nil {
			return err
		}
		servers[m] = s
		if err := check(ctx, s); err != nil {
			return err
		}
	}

	fmt.Printf("servers on CPU %s, load on CPU %s (a shared machine: other work may run on both); GOMAXPROCS of each server: 1\n", o.serverCPU, o.loadCPU)
	fmt.Printf("warm-up: 1s of load on each server\n")
	for _, m := range run {
		warm := o
		warm.duration = time.Second
		if _, err := throughput(ctx, warm, w, servers[m]); err != nil {
			return err
		}
	}

	results := map[string][]sample{}
	for r := range o.rounds {
		order := slices.Clone(run)
		if r%2 == 1 {
			slices.Reverse(order) // A,B,...,B,A: drift during a round cancels out
		}
		for _, m := range order {
			s := servers[m]
			smp, err := throughput(ctx, o, w, s)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, m, err)
			}
			if err := latency(ctx, o, w, s, &smp); err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, m, err)
			}
			results[m] = append(results[m], smp)
			fmt.Printf("round %d  %-10s  %9.0f req/s  %6.2f µs CPU/req  busy %4.2f  p50 %6.0f µs  p99 %6.0f µs at %5.0f req/s\n",
				r+1, m, smp.rps, smp.cpuPerReq, smp.busy, smp.p50, smp.p99, smp.rate)
		}
	}

	fmt.Printf("the OTLP collector received %d spans from the traced modes\n", col.spans.Load())
	report := summarize(o, results)
	fmt.Print("\n" + report)
	if o.write != "" {
		return writeFigures(o.write, report)
	}
	return nil
}

func callNames() string {
	var names []string
	for _, c := range mix {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// sample is what one round measured on one server.
type sample struct {
	rps       float64 // requests/s at full load
	cpuPerReq float64 // server CPU time per request at full load, µs
	p50, p99  float64 // latency at the fixed rate, µs
	rate      float64 // the fixed rate reached, requests/s
	busy      float64 // the server's CPU time at full load ÷ the time: 1 when it had its core to itself
}

// workload holds the files the load generators read.
type workload struct {
	grpcBodies []string // per call of mix, the gRPC request body
	healthBody string   // the grpc.health.v1 Check request body
	restScript string   // wrk script sending the mix at full speed
	dir        string
}

func newWorkload(dir string) (*workload, error) {
	w := &workload{dir: dir}
	for i, c := range mix {
		p := filepath.Join(dir, fmt.Sprintf("grpc-%d.bin", i))
		if err := os.WriteFile(p, grpcFrame(c.msg), 0o644); err != nil {
			return nil, err
		}
		w.grpcBodies = append(w.grpcBodies, p)
	}
	w.healthBody = filepath.Join(dir, "grpc-health.bin")
	if err := os.WriteFile(w.healthBody, grpcFrame(&healthpb.HealthCheckRequest{}), 0o644); err != nil {
		return nil, err
	}
	w.restScript = filepath.Join(dir, "mix.lua")
	if err := os.WriteFile(w.restScript, []byte(wrkScript(0)), 0o644); err != nil {
		return nil, err
	}
	return w, nil
}

// wrkScript returns a wrk script that sends the requests of mix in turn
// and prints its figures as one JSON line. A positive delayMS makes each
// connection wait that long between requests, for a fixed rate.
func wrkScript(delayMS int) string {
	var b strings.Builder
	b.WriteString("local reqs = {}\nlocal i = 0\ninit = function(args)\n")
	for _, c := range mix {
		if c.json == nil {
			fmt.Fprintf(&b, "  table.insert(reqs, wrk.format(%q, %q))\n", c.method, c.path)
		} else {
			fmt.Fprintf(&b, "  table.insert(reqs, wrk.format(%q, %q, {[\"Content-Type\"] = \"application/json\"}, %q))\n", c.method, c.path, c.json)
		}
	}
	b.WriteString("end\nrequest = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n")
	if delayMS > 0 {
		fmt.Fprintf(&b, "delay = function() return %d end\n", delayMS)
	}
	b.WriteString(`done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    s.requests, s.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`)
	return b.String()
}

// server is a running server: the binary or `bench serve`.
type server struct {
	mode  string
	cmd   *exec.Cmd
	addr  string // of the port measured
	admin string // of the binary's admin port
}

// startServer starts the server of mode pinned to o.serverCPU: the binary,
// or `bench serve -mode mode`, and waits for the address it listens on.
func startServer(o options, exe, mode string, maxTime time.Duration, cpuProfile string) (*server, error) {
	if isBinary(mode) {
		return startBinary(o, mode, o.collector.addr)
	}
	args := []string{"-c", o.serverCPU, exe, "serve", "-mode", mode, "-max-time", maxTime.String()}
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	cmd := exec.Command("taskset", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{mode: mode, cmd: cmd}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("start %s server: %w", mode, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	s.addr = strings.TrimSpace(line)
	return s, nil
}

// stop ends the server: SIGTERM, then SIGKILL if it has not exited in 10 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// cpuTime returns the user and system CPU time the server has used. taskset
// execs the server, so its pid is the server's.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15 (proc(5)).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", s.cmd.Process.Pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

func (s *server) isGRPC() bool {
	return s.mode == modeGRPC || s.mode == modeGRPCTraced || s.mode == modeGRPCFloor
}

// check makes sure the server answers what it should before it is measured.
func check(ctx context.Context, s *server) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if s.isGRPC() {
		conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		if s.mode == modeGRPCFloor {
			_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		}
		resp, err := tmdbstatusv1.NewStatusServiceClient(conn).Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7})
		if err != nil || resp.GetEntry().GetReason() != "INVALID_API_KEY" {
			return fmt.Errorf("%s server: Lookup(7) = %v, %v", s.mode, resp, err)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/v1/statuses/7", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || (s.mode != modeRESTFloor && !strings.Contains(string(body), "INVALID_API_KEY")) {
		return fmt.Errorf("%s server: GET /v1/statuses/7 = %d %s", s.mode, resp.StatusCode, body)
	}
	return nil
}

// throughput loads s as fast as it answers for o.duration and returns its
// requests/s and its CPU time per request.
func throughput(ctx context.Context, o options, w *workload, s *server) (sample, error) {
	before, err := s.cpuTime()
	if err != nil {
		return sample{}, err
	}
	var requests int
	var rps float64
	if s.isGRPC() {
		runs, err := h2load(ctx, o, w, s, "-c", strconv.Itoa(o.grpcConns), "-m", strconv.Itoa(o.grpcStreams), "-D", secs(o.duration))
		if err != nil {
			return sample{}, err
		}
		for _, r := range runs {
			requests += r.done
			rps += r.rps
		}
	} else {
		r, err := wrk(ctx, o, w.restScript, s, o.restConns, o.duration)
		if err != nil {
			return sample{}, err
		}
		requests = r.Requests
		rps = float64(r.Requests) / (float64(r.DurationUS) / 1e6)
	}
	after, err := s.cpuTime()
	if err != nil {
		return sample{}, err
	}
	if requests == 0 {
		return sample{}, errors.New("no request answered")
	}
	cpu := float64((after - before).Microseconds())
	return sample{rps: rps, cpuPerReq: cpu / float64(requests), busy: cpu / 1e6 * rps / float64(requests)}, nil
}

// latency sends o.rate requests/s to s for o.latDuration and sets the
// latency percentiles of smp.
func latency(ctx context.Context, o options, w *workload, s *server, smp *sample) error {
	if s.isGRPC() {
		// --rps is per client: spread o.rate over the clients of every call.
		const conns = 2
		perClient := max(1, o.rate/(conns*len(mix)))
		runs, err := h2load(ctx, o, w, s, "-c", strconv.Itoa(conns), "-m", "1", "-D", secs(o.latDuration), "--rps", strconv.Itoa(perClient), "--log-file", "")
		if err != nil {
			return err
		}
		var lat []float64
		for _, r := range runs {
			smp.rate += r.rps
			l, err := readH2loadLog(r.logFile)
			if err != nil {
				return err
			}
			lat = append(lat, l...)
		}
		slices.Sort(lat)
		smp.p50, smp.p99 = percentile(lat, 50), percentile(lat, 99)
		return nil
	}
	// wrk paces each connection with a fixed delay between requests.
	const conns = 8
	delay := max(1, int(math.Round(conns*1000/float64(o.rate))))
	script := filepath.Join(w.dir, "paced.lua")
	if err := os.WriteFile(script, []byte(wrkScript(delay)), 0o644); err != nil {
		return err
	}
	r, err := wrk(ctx, o, script, s, conns, o.latDuration)
	if err != nil {
		return err
	}
	smp.rate = float64(r.Requests) / (float64(r.DurationUS) / 1e6)
	smp.p50, smp.p99 = float64(r.P50US), float64(r.P99US)
	return nil
}

// h2loadRun is what one h2load process reported.
type h2loadRun struct {
	done    int
	rps     float64
	logFile string
}

var (
	h2loadFinished = regexp.MustCompile(`finished in [0-9.]+\w*, ([0-9.]+) req/s`)
	h2loadRequests = regexp.MustCompile(`requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
)

// h2load runs one h2load per call of the mix at the same time (for the
// floor, as many health checks), with args, pinned to o.loadCPU. An empty
// --log-file argument is given a file per process.
func h2load(ctx context.Context, o options, w *workload, s *server, args ...string) ([]h2loadRun, error) {
	type proc struct {
		cmd *exec.Cmd
		out strings.Builder
		log string
	}
	procs := make([]*proc, len(mix))
	for i, c := range mix {
		p := &proc{}
		body, path := w.grpcBodies[i], c.grpcMethod
		if s.mode == modeGRPCFloor {
			body, path = w.healthBody, healthpb.Health_Check_FullMethodName
		}
		a := []string{"-c", o.loadCPU, "h2load", "-t", "1",
			"-H", "content-type: application/grpc", "-H", "te: trailers", "-d", body}
		for j := 0; j < len(args); j++ {
			a = append(a, args[j])
			if args[j] == "--log-file" {
				p.log = filepath.Join(w.dir, fmt.Sprintf("h2load-%d.log", i))
				a = append(a, p.log)
				j++
			}
		}
		a = append(a, "http://"+s.addr+path)
		p.cmd = exec.CommandContext(ctx, "taskset", a...)
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		procs[i] = p
	}
	for _, p := range procs {
		if err := p.cmd.Start(); err != nil {
			return nil, err
		}
	}
	var runs []h2loadRun
	var errs []error
	for _, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("h2load: %w: %s", err, p.out.String()))
			continue
		}
		out := p.out.String()
		f, r := h2loadFinished.FindStringSubmatch(out), h2loadRequests.FindStringSubmatch(out)
		if f == nil || r == nil {
			errs = append(errs, fmt.Errorf("h2load: unexpected output: %s", out))
			continue
		}
		rps, _ := strconv.ParseFloat(f[1], 64)
		done, _ := strconv.Atoi(r[1])
		if r[3] != "0" || r[4] != "0" || r[5] != "0" {
			errs = append(errs, fmt.Errorf("h2load: failed requests: %s", r[0]))
		}
		runs = append(runs, h2loadRun{done: done, rps: rps, logFile: p.log})
	}
	return runs, errors.Join(errs...)
}

// readH2loadLog returns the latencies, in µs, of the requests an h2load
// --log-file records: start time, HTTP status, µs to the end of the response.
func readH2loadLog(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lat []float64
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 || f[1] != "200" {
			continue
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err == nil {
			lat = append(lat, v)
		}
	}
	return lat, nil
}

// wrkResult is the JSON line the wrk script prints when done.
type wrkResult struct {
	Requests     int   `json:"requests"`
	DurationUS   int64 `json:"duration_us"`
	SocketErrors int   `json:"socket_errors"`
	Non2xx       int   `json:"non2xx"`
	P50US        int64 `json:"p50_us"`
	P99US        int64 `json:"p99_us"`
}

// wrk runs wrk with script against s, pinned to o.loadCPU.
func wrk(ctx context.Context, o options, script string, s *server, conns int, d time.Duration) (wrkResult, error) {
	cmd := exec.CommandContext(ctx, "taskset", "-c", o.loadCPU, "wrk", "-t", "1", "-c", strconv.Itoa(conns),
		"-d", secs(d), "-s", script, "http://"+s.addr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	_, line, ok := strings.Cut(string(out), "WRKJSON ")
	if !ok {
		return wrkResult{}, fmt.Errorf("wrk: unexpected output: %s", out)
	}
	var r wrkResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &r); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if r.SocketErrors > 0 || r.Requests == 0 {
		return wrkResult{}, fmt.Errorf("wrk: %d socket errors, %d requests: %s", r.SocketErrors, r.Requests, out)
	}
	return r, nil
}

func secs(d time.Duration) string { return strconv.Itoa(int(math.Ceil(d.Seconds()))) + "s" }

// percentile returns the p-th percentile of sorted values (nearest rank).
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summarize returns the medians of every server and their ratios to the
// floors, with the targets of the issue, as Markdown.
func summarize(o options, results map[string][]sample) string {
	med := func(m string, f func(sample) float64) float64 {
		var v []float64
		for _, s := range results[m] {
			v = append(v, f(s))
		}
		return median(v)
	}
	rps := func(s sample) float64 { return s.rps }
	cpu := func(s sample) float64 { return s.cpuPerReq }
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s, %s %s/%s, %d CPUs (shared with other work), %d interleaved rounds; medians.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), o.rounds)
	fmt.Fprintf(&b, "Full load %v per server and round (%s: %d calls × %d connections × %d streams; %s: 1 thread, %d connections), latency at %d requests/s for %v.\n\n",
		o.duration, toolVersion("h2load", "--version"), len(mix), o.grpcConns, o.grpcStreams, toolVersion("wrk", "-v"), o.restConns, o.rate, o.latDuration)
	b.WriteString("| server | requests/s | CPU µs/request | server busy | p50 µs | p99 µs | at req/s |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range modes {
		if len(results[m]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f |\n", m, med(m, rps), med(m, cpu), med(m, func(s sample) float64 { return s.busy }),
			med(m, func(s sample) float64 { return s.p50 }), med(m, func(s sample) float64 { return s.p99 }),
			med(m, func(s sample) float64 { return s.rate }))
	}
	b.WriteString("\n| ratio | median | target | met |\n|---|---:|---|---|\n")
	ratio := func(name string, a, bm string, f func(sample) float64, target float64, atLeast bool) {
		if len(results[a]) == 0 || len(results[bm]) == 0 {
			return
		}
		r := med(a, f) / med(bm, f)
		if math.IsInf(target, 0) {
			fmt.Fprintf(&b, "| %s | %.2f | none | |\n", name, r)
			return
		}
		op, met := "≤", r <= target
		if atLeast {
			op, met = "≥", r >= target
		}
		fmt.Fprintf(&b, "| %s | %.2f | %s %.2f | %s |\n", name, r, op, target, map[bool]string{true: "yes", false: "no"}[met])
	}
	p99 := func(s sample) float64 { return s.p99 }
	ratio("gRPC requests/s ÷ no-op grpc-go", modeGRPC, modeGRPCFloor, rps, 0.90, true)
	ratio("gRPC CPU/request ÷ no-op grpc-go", modeGRPC, modeGRPCFloor, cpu, 1.12, false)
	ratio("REST requests/s ÷ plain net/http JSON", modeREST, modeRESTFloor, rps, 0.75, true)
	ratio("REST requests/s ÷ FromEndpoint gateway", modeREST, modeRESTPeer, rps, 3, true)
	ratio("gRPC p99 at fixed rate ÷ no-op grpc-go's", modeGRPC, modeGRPCFloor, p99, 1.2, false)
	ratio("REST p99 at fixed rate ÷ plain net/http's", modeREST, modeRESTFloor, p99, 1.2, false)
	ratio("REST CPU/request ÷ plain net/http JSON", modeREST, modeRESTFloor, cpu, math.Inf(1), false)
	ratio("REST CPU/request ÷ FromEndpoint gateway", modeREST, modeRESTPeer, cpu, math.Inf(1), false)
	ratio("gRPC traced requests/s ÷ untraced", modeGRPCTraced, modeGRPC, rps, math.Inf(1), true)
	ratio("gRPC traced CPU/request ÷ untraced", modeGRPCTraced, modeGRPC, cpu, math.Inf(1), false)
	ratio("REST traced requests/s ÷ untraced", modeRESTTraced, modeREST, rps, math.Inf(1), true)
	ratio("REST traced CPU/request ÷ untraced", modeRESTTraced, modeREST, cpu, math.Inf(1), false)
	return b.String()
}

// toolVersion returns the first line that name prints when run with flag,
// or name alone.
func toolVersion(name, flag string) string {
	out, _ := exec.Command(name, flag).CombinedOutput() // wrk -v exits 1
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return name
	}
	if i := strings.Index(line, " ["); i > 0 {
		line = line[:i] // wrk's "[epoll] Copyright ..."
	}
	return line
}

// figuresBegin and figuresEnd mark the section of BENCHMARKS.md that -write
// rewrites.
const (
	figuresBegin = "<!-- bench-load figures: begin -->"
	figuresEnd   = "<!-- bench-load figures: end -->"
)

func writeFigures(path, report string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, figuresBegin), strings.Index(s, figuresEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q section", path, figuresBegin, figuresEnd)
	}
	s = s[:i+len(figuresBegin)] + "\n" + report + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// profile runs the server of o.profileMode alone under full load for
// o.duration and writes its CPU profile to o.profileOut: the binary's from
// its own net/http/pprof, on its admin port, a reference's from
// -cpuprofile.
func profile(ctx context.Context, o options, w *workload, exe string, maxTime time.Duration) error {
	out, err := filepath.Abs(o.profileOut)
	if err != nil {
		return err
	}
	cpuProfile := out
	if isBinary(o.profileMode) {
		cpuProfile = ""
	}
	s, err := startServer(o, exe, o.profileMode, maxTime, cpuProfile)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := check(ctx, s); err != nil {
		return err
	}
	fetched := make(chan error, 1)
	if s.admin != "" {
		go func() { fetched <- fetchProfile(ctx, s.admin, o.duration, out) }()
	} else {
		fetched <- nil
	}
	smp, err := throughput(ctx, o, w, s)
	if err != nil {
		return err
	}
	if err := <-fetched; err != nil {
		return err
	}
	fmt.Printf("%s: %.0f req/s, %.2f µs CPU/req; profile in %s (go tool pprof -top %s)\n", s.mode, smp.rps, smp.cpuPerReq, out, out)
	return nil
}

// fetchProfile writes to out the CPU profile of d that the binary serves
// on its admin port admin.
func fetchProfile(ctx context.Context, admin string, d time.Duration, out string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, max(1, int(d.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
