//go:build abuse

package loadtest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

var abuseFull = flag.Bool("abuse.full", false, "run the abuse tests at full size (minutes, and GiBs of memory on a server without limits), not CI's (seconds)")

// The limits every attack is held to.
const (
	// maxRSSGrowthKiB is how much an attack may grow the server's resident
	// memory: its peak (VmHWM) over its VmRSS before the attack.
	maxRSSGrowthKiB = 150 << 10
	// maxGoroutineGrowth is how many goroutines an attack from a handful
	// of connections may add: a few hundred streams' worth.
	maxGoroutineGrowth = 1000
	// probeTimeout is how soon /healthz, /metrics and a Lookup must answer
	// during an attack to count as answered: 2 s, since an attack that
	// saturates both cores of a small CI machine (rapid reset) slows a
	// scrape past 1 s; without the limits, a Lookup took 2.7 s.
	probeTimeout = 2 * time.Second
	// probeEvery is the pause between two probes of each kind.
	probeEvery = 200 * time.Millisecond
	// killRSSKiB is the resident memory past which the watchdog kills the
	// binary, to spare the machine: the test has failed long before.
	killRSSKiB = 2 << 20
)

// sized returns short in CI's run, full under -abuse.full.
func sized[T any](short, full T) T {
	if *abuseFull {
		return full
	}
	return short
}

// attackDeadline is when every connection of an attack stops reading and
// writing, whatever happens.
func attackDeadline() time.Time {
	return time.Now().Add(sized(time.Minute, 10*time.Minute))
}

// probe counts the answers to one kind of request during an attack.
type probe struct {
	mu      sync.Mutex
	ok      int
	failed  int
	slowest time.Duration
	first   []string
}

func (p *probe) add(took time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slowest = max(p.slowest, took)
	if err == nil && took > probeTimeout {
		err = fmt.Errorf("answered after %v", took.Round(time.Millisecond))
	}
	if err == nil {
		p.ok++
		return
	}
	p.failed++
	if len(p.first) < 3 {
		p.first = append(p.first, err.Error())
	}
}

func (p *probe) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%d of %d answered (slowest %v)", p.ok, p.ok+p.failed, p.slowest.Round(time.Millisecond))
}

// watch probes a server under attack: /healthz and /metrics on a new
// connection each time, as a kubelet's probe and a scraper do, and a
// Lookup on a gRPC connection opened before the attack; it samples the
// goroutines (from /metrics) and kills the binary if its memory runs away.
type watch struct {
	s                 *server
	rssBefore         int // KiB
	goroutinesBefore  int
	goroutinesPeak    atomic.Int64
	healthz, metrics  probe
	lookup            probe
	rssSampled        atomic.Int64 // the peak of VmRSS as the watchdog samples it, KiB
	killed            atomic.Bool
	stop              context.CancelFunc
	wg                sync.WaitGroup
	rssPeak, rssAfter int // KiB, once ended
}

// watchServer starts watching s.
func watchServer(t *testing.T, s *server) *watch {
	t.Helper()
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", s.grpcAddr, err)
	}
	t.Cleanup(func() { conn.Close() })
	client := tmdbstatusv1.NewStatusServiceClient(conn)
	lookup := func(ctx context.Context) error {
		_, err := client.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7})
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := lookup(ctx); err != nil {
		t.Fatalf("Lookup before the attack: %v", err)
	}
	w := &watch{s: s, rssBefore: s.rssKiB(t)}
	hc := &http.Client{Timeout: probeTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	if w.goroutinesBefore, err = s.goroutinesVia(hc); err != nil {
		t.Fatalf("goroutines before the attack: %v", err)
	}
	ctx, w.stop = context.WithCancel(context.Background())
	every := func(p *probe, f func(context.Context) error) {
		w.wg.Go(func() {
			for ctx.Err() == nil {
				pctx, cancel := context.WithTimeout(ctx, probeTimeout)
				began := time.Now()
				err := f(pctx)
				cancel()
				if ctx.Err() == nil {
					p.add(time.Since(began), err)
				}
				sleep(ctx, probeEvery)
			}
		})
	}
	every(&w.healthz, func(ctx context.Context) error { return getOK(ctx, hc, "http://"+s.httpAddr+"/healthz") })
	every(&w.metrics, func(context.Context) error {
		n, err := s.goroutinesVia(hc)
		if err == nil && int64(n) > w.goroutinesPeak.Load() {
			w.goroutinesPeak.Store(int64(n))
		}
		return err
	})
	every(&w.lookup, lookup)
	w.wg.Go(func() { w.watchdog(ctx) })
	return w
}

// watchdog samples the binary's resident memory and kills it once that
// passes killRSSKiB.
func (w *watch) watchdog(ctx context.Context) {
	for ctx.Err() == nil {
		kib, err := w.s.statusKiB("VmRSS")
		if err == nil && int64(kib) > w.rssSampled.Load() {
			w.rssSampled.Store(int64(kib))
		}
		if err == nil && kib > killRSSKiB {
			w.killed.Store(true)
			w.s.cmd.Process.Kill()
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// getOK gets url and wants HTTP 200.
func getOK(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// end stops the probes and reads the memory figures.
func (w *watch) end() {
	w.stop()
	w.wg.Wait()
	// VmHWM is gone with the process if the watchdog killed it.
	hwm, _ := w.s.statusKiB("VmHWM")
	w.rssPeak = max(hwm, int(w.rssSampled.Load()))
	w.rssAfter, _ = w.s.statusKiB("VmRSS")
}

// check logs what the watch saw and holds it to the limits: memory growth,
// goroutines (unless goroutineLimit is 0) and every probe answered.
func (w *watch) check(t *testing.T, sent string, goroutineLimit int) {
	t.Helper()
	peak := int(w.goroutinesPeak.Load())
	t.Logf("%s: sent %s; VmRSS %d MiB before, peak (VmHWM) %d MiB (+%d MiB), %d MiB after; goroutines %d before, peak %d (+%d)",
		t.Name(), sent, w.rssBefore>>10, w.rssPeak>>10, (w.rssPeak-w.rssBefore)>>10, w.rssAfter>>10,
		w.goroutinesBefore, peak, peak-w.goroutinesBefore)
	t.Logf("%s: during the attack /healthz %v, /metrics %v, Lookup %v", t.Name(), &w.healthz, &w.metrics, &w.lookup)
	if w.killed.Load() {
		t.Errorf("VmRSS passed %d MiB: the watchdog killed the binary", killRSSKiB>>10)
	}
	if growth := w.rssPeak - w.rssBefore; growth > maxRSSGrowthKiB {
		t.Errorf("resident memory grew by %d MiB; want at most %d MiB", growth>>10, maxRSSGrowthKiB>>10)
	}
	if goroutineLimit > 0 && peak-w.goroutinesBefore > goroutineLimit {
		t.Errorf("goroutines grew by %d (%d to %d); want at most %d", peak-w.goroutinesBefore, w.goroutinesBefore, peak, goroutineLimit)
	}
	for _, p := range []struct {
		name string
		p    *probe
	}{{"/healthz", &w.healthz}, {"/metrics", &w.metrics}, {"Lookup", &w.lookup}} {
		if p.p.failed > 0 || p.p.ok == 0 {
			t.Errorf("%s during the attack: %v; want every probe answered within %v; first failures: %q", p.name, p.p, probeTimeout, p.p.first)
		}
	}
}

// checkLeft wants the server's goroutines back to where they were before
// the attack, once its connections are closed: an attack leaks nothing.
func (w *watch) checkLeft(t *testing.T) {
	t.Helper()
	n := settle(w.goroutinesBefore, func() int { n, _ := w.s.goroutines(); return n })
	t.Logf("%s: goroutines %d once the attack's connections closed (%d before)", t.Name(), n, w.goroutinesBefore)
	if n > w.goroutinesBefore {
		t.Errorf("server runs %d goroutines after the attack's connections closed; want %d, as before", n, w.goroutinesBefore)
	}
}

// stopServer sends SIGTERM to s and wants exit status 0 within the grace
// period (and a little more for the process to go).
func stopServer(t *testing.T, s *server) {
	t.Helper()
	select {
	case <-s.exited:
		t.Errorf("server exited before SIGTERM: %v", s.waitErr)
		return
	default:
	}
	began := time.Now()
	s.signal(t, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(gracePeriod + 2*time.Second):
		t.Errorf("server still running %v after SIGTERM; want exit status 0 within the grace (%v)", time.Since(began).Round(time.Millisecond), gracePeriod)
		return
	}
	took := time.Since(began).Round(time.Millisecond)
	if s.waitErr != nil {
		t.Errorf("server exit after SIGTERM: %v after %v; want exit status 0", s.waitErr, took)
		return
	}
	t.Logf("%s: exit status 0 %v after SIGTERM", t.Name(), took)
}
