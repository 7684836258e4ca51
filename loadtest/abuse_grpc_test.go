//go:build abuse

package loadtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// The methods the attacks call.
const (
	lookupMethod = tmdbstatusv1.StatusService_Lookup_FullMethodName
	listMethod   = tmdbstatusv1.StatusService_ListStatuses_FullMethodName
	watchMethod  = healthpb.Health_Watch_FullMethodName
)

// flushEvery is how many frames an attack buffers before it writes them.
const flushEvery = 256

// openStreams opens n streams on c, each written by open, flushing every
// flushEvery, and waits until the server has read them all. It returns how
// many it opened: fewer if the server closed the connection, which is not
// the attacker's concern.
func openStreams(ctx context.Context, c *h2Conn, n int, open func() error) int {
	for i := range n {
		if ctx.Err() != nil || open() != nil {
			return i
		}
		if i%flushEvery == flushEvery-1 && c.flush() != nil {
			return i
		}
	}
	if c.flush() == nil {
		c.sync(ctx)
	}
	return n
}

// attackContext bounds an attack's sending.
func attackContext(t *testing.T) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), attackDeadline())
	t.Cleanup(cancel)
	return ctx
}

// dialAttack opens an attacking connection to the gRPC port, closed when
// the test ends.
func dialAttack(t *testing.T, s *server, settings ...http2.Setting) *h2Conn {
	t.Helper()
	c, err := dialH2(s.grpcAddr, attackDeadline(), settings...)
	if err != nil {
		t.Fatalf("dial %s: %v", s.grpcAddr, err)
	}
	t.Cleanup(c.close)
	return c
}

// describe says how the server answered the streams of conns.
func describe(conns ...*h2Conn) string {
	ended, goAways := 0, 0
	how := map[string]int{}
	for _, c := range conns {
		n, m := c.endings()
		ended += n
		for k, v := range m {
			how[k] += v
		}
		if c.goAway.Load() {
			goAways++
		}
	}
	return fmt.Sprintf("the server ended %d streams %v and sent GOAWAY on %d of %d connections", ended, how, goAways, len(conns))
}

// TestAbuseHeldStreams opens streams on one connection, each with its
// HEADERS and no message, and holds them: the server must bound the
// streams of a connection (and so its goroutines and memory) and keep
// answering everyone else.
func TestAbuseHeldStreams(t *testing.T) {
	s := start(t)
	n, hold := sized(20_000, 100_000), sized(2*time.Second, 10*time.Second)
	w := watchServer(t, s)
	ctx := attackContext(t)
	c := dialAttack(t, s)
	opened := openStreams(ctx, c, n, func() error {
		_, err := c.grpcRequest(lookupMethod, nil, false)
		return err
	})
	sleep(ctx, hold)
	w.end()
	sent := fmt.Sprintf("%d of %d streams (HEADERS, no message) in %d kB on one connection, held %v; %s",
		opened, n, c.written.Load()>>10, hold, describe(c))
	c.close()
	w.check(t, sent, maxGoroutineGrowth)
	w.checkLeft(t)
	stopServer(t, s)
}

// TestAbuseHPACKAmplification indexes one 3.8 kB "-bin" header in the HPACK
// table of a connection and then refers to it 4,000 times in each stream's
// HEADERS, a byte each: every stream holds 15 MB of header list and 11 MB
// of decoded metadata for 4 kB sent. The server must bound a header list
// (to a few KiB) and the streams of a connection.
func TestAbuseHPACKAmplification(t *testing.T) {
	s := start(t)
	n, refs, hold := sized(20, 200), 4000, sized(2*time.Second, 10*time.Second)
	// The largest value that fits the 4,096-byte dynamic table beside the
	// standard fields of a request, in base64 as a -bin value must be.
	bin := hpack.HeaderField{Name: "a-bin", Value: strings.Repeat("A", 3820)}
	extra := make([]hpack.HeaderField, refs)
	for i := range extra {
		extra[i] = bin
	}
	w := watchServer(t, s)
	ctx := attackContext(t)
	c := dialAttack(t, s)
	opened := openStreams(ctx, c, n, func() error {
		_, err := c.grpcRequest(lookupMethod, nil, false, extra...)
		return err
	})
	sleep(ctx, hold)
	w.end()
	sent := fmt.Sprintf("%d of %d streams of %d references to one %d-byte -bin header, %d kB on one connection, held %v; %s",
		opened, n, refs, len(bin.Value), c.written.Load()>>10, hold, describe(c))
	c.close()
	w.check(t, sent, maxGoroutineGrowth)
	w.checkLeft(t)
	stopServer(t, s)
}

// TestAbuseIdleConnections opens more connections to the gRPC port than
// the process may hold files, each sending the client preface and nothing
// more. The binary runs with a low RLIMIT_NOFILE (through prlimit, from
// util-linux) so that the flood is cheap. The server must cap its
// connections below its file limit, so that /healthz and /metrics (on new
// connections) and gRPC (on an open one) keep answering.
func TestAbuseIdleConnections(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatalf("this test runs the binary through prlimit (util-linux): %v", err)
	}
	limit := sized(1024, 8192)
	s := startThrough(t, []string{"prlimit", fmt.Sprintf("--nofile=%d:%d", limit, limit)})
	n, hold := limit+limit/8, sized(3*time.Second, 10*time.Second)
	fdsBefore := s.openFDs(t)
	w := watchServer(t, s)
	ctx := attackContext(t)
	var mu sync.Mutex
	var conns []*h2Conn
	var failed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				c, err := dialH2(s.grpcAddr, attackDeadline())
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			c.close()
		}
	})
	sleep(ctx, hold)
	fdsPeak := s.openFDs(t)
	w.end()
	sent := fmt.Sprintf("%d idle connections (preface only) of %d tried, %d dials failed, held %v; the server holds %d fds of its limit of %d (%d before)",
		len(conns), n, failed.Load(), hold, fdsPeak, limit, fdsBefore)
	for _, c := range conns {
		c.close()
	}
	// A connection costs a few goroutines: their number is bounded by the
	// connection cap, and not checked here.
	w.check(t, sent, 0)
	w.checkLeft(t)
	stopServer(t, s)
}

// TestAbuseWatchAndZeroWindow opens health Watch streams on one connection
// and ListStatuses calls on another, both with a flow-control window of
// zero: the server can send no message, so every reply stays queued. The
// server must bound the streams of a connection, and so what it queues.
func TestAbuseWatchAndZeroWindow(t *testing.T) {
	s := start(t)
	// At most 10,000 requests of 5 bytes on a connection, which fits its
	// 64 KiB flow-control window without reading the server's updates.
	perConn, conns, hold := 10_000, sized(1, 2), sized(2*time.Second, 10*time.Second)
	w := watchServer(t, s)
	ctx := attackContext(t)
	zeroWindow := http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0}
	var all []*h2Conn
	var wg sync.WaitGroup
	var opened atomic.Int64
	for range conns {
		for _, method := range []string{watchMethod, listMethod} {
			c := dialAttack(t, s, zeroWindow)
			all = append(all, c)
			wg.Go(func() {
				opened.Add(int64(openStreams(ctx, c, perConn, func() error {
					_, err := c.grpcRequest(method, []byte{}, true)
					return err
				})))
			})
		}
	}
	wg.Wait()
	sleep(ctx, hold)
	w.end()
	var written int64
	for _, c := range all {
		written += c.written.Load()
	}
	sent := fmt.Sprintf("%d of %d streams (half Watch, half ListStatuses) with a zero window in %d kB on %d connections, held %v; %s",
		opened.Load(), 2*conns*perConn, written>>10, len(all), hold, describe(all...))
	for _, c := range all {
		c.close()
	}
	w.check(t, sent, maxGoroutineGrowth)
	w.checkLeft(t)
	stopServer(t, s)
}

// TestAbuseRapidReset opens streams and resets them at once (HEADERS then
// RST_STREAM, CVE-2023-44487) as fast as four connections go: the server
// must keep answering other clients promptly (and may end the attacking
// connections).
func TestAbuseRapidReset(t *testing.T) {
	s := start(t)
	perConn, conns := sized(30_000, 250_000), 4
	w := watchServer(t, s)
	ctx := attackContext(t)
	cpuBefore := s.cpuTime(t)
	began := time.Now()
	var all []*h2Conn
	var wg sync.WaitGroup
	var reset atomic.Int64
	for range conns {
		c := dialAttack(t, s)
		all = append(all, c)
		wg.Go(func() {
			reset.Add(int64(openStreams(ctx, c, perConn, func() error {
				id, err := c.grpcRequest(lookupMethod, nil, false)
				if err != nil {
					return err
				}
				return c.reset(id)
			})))
		})
	}
	wg.Wait()
	took := time.Since(began)
	cpu := s.cpuTime(t) - cpuBefore
	w.end()
	var written int64
	for _, c := range all {
		written += c.written.Load()
	}
	sent := fmt.Sprintf("%d of %d streams opened and reset in %d kB on %d connections in %v (server CPU %v, %.0f%% of a core); %s",
		reset.Load(), conns*perConn, written>>10, conns, took.Round(time.Millisecond), cpu, 100*cpu.Seconds()/took.Seconds(), describe(all...))
	for _, c := range all {
		c.close()
	}
	w.check(t, sent, maxGoroutineGrowth)
	w.checkLeft(t)
	stopServer(t, s)
}

// TestAbuseUnsentRequest opens streams that never send their request, 100
// a connection, then sends SIGTERM: --request-timeout must bound a call
// from the moment its stream opens, so the server ends every such stream
// with DEADLINE_EXCEEDED and exits 0 within its grace.
func TestAbuseUnsentRequest(t *testing.T) {
	// CI's run shortens --request-timeout; the full run tests the default.
	var flags []string
	if !*abuseFull {
		flags = []string{"--request-timeout=2s"}
	}
	s := start(t, flags...)
	conns, perConn := sized(10, 100), 100
	w := watchServer(t, s)
	ctx := attackContext(t)
	var all []*h2Conn
	opened := 0
	for range conns {
		c := dialAttack(t, s)
		all = append(all, c)
		opened += openStreams(ctx, c, perConn, func() error {
			_, err := c.grpcRequest(lookupMethod, nil, false)
			return err
		})
	}
	sleep(ctx, 500*time.Millisecond)
	w.end()
	// 100 streams a connection are a well-behaved client's: their
	// goroutines are not checked.
	w.check(t, fmt.Sprintf("%d streams (HEADERS, no message) on %d connections", opened, len(all)), 0)
	stopServer(t, s)
	ended := 0
	deadlineExceeded := 0
	for _, c := range all {
		n, how := c.endings()
		ended += n
		deadlineExceeded += how["grpc-status 4"]
	}
	t.Logf("%s: before it exited %s", t.Name(), describe(all...))
	if ended != opened || deadlineExceeded != opened {
		t.Errorf("the server ended %d of %d streams before it exited, %d with DEADLINE_EXCEEDED; want all, with DEADLINE_EXCEEDED",
			ended, opened, deadlineExceeded)
	}
}

// cpuTime returns the CPU time the process has used, user and system,
// from /proc/PID/stat.
func (s *server) cpuTime(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read process stat: %v", err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15, in clock ticks.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		t.Fatalf("/proc/%d/stat: %q", s.cmd.Process.Pid, b)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", s.cmd.Process.Pid, err)
		}
		ticks += n
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux port Go runs on
	return time.Duration(ticks) * time.Second / clockTicks
}
