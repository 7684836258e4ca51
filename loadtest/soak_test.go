//go:build soak

package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

var (
	soakDuration = flag.Duration("soak.duration", 60*time.Second, "how long TestSoak drives the server")
	soakClients  = flag.Int("soak.clients", 64, "concurrent clients of TestSoak, half gRPC and half REST")
)

// tally counts the requests of a load test by outcome, and keeps the first
// failures to report them.
type tally struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	first      []string
}

func (c *tally) add(proto string, err error) {
	if err == nil {
		c.ok.Add(1)
		return
	}
	c.failed.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.first) < 10 {
		c.first = append(c.first, proto+": "+err.Error())
	}
}

// clients are the load tests' clients: each has a connection of its own,
// gRPC or REST.
type clients struct {
	grpcConns []*grpc.ClientConn
	http      []*http.Client
}

func newClients(t *testing.T, s *server, n int) *clients {
	t.Helper()
	c := new(clients)
	for i := range n {
		if i%2 == 0 {
			conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatalf("grpc.NewClient: %v", err)
			}
			c.grpcConns = append(c.grpcConns, conn)
		} else {
			c.http = append(c.http, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}})
		}
	}
	t.Cleanup(c.close)
	return c
}

// close closes every client's connections.
func (c *clients) close() {
	for _, conn := range c.grpcConns {
		conn.Close()
	}
	for _, h := range c.http {
		h.CloseIdleConnections()
	}
}

// run sends the cases round-robin from every client until ctx is done,
// each request within waitTimeout, and reports each outcome to record.
func (c *clients) run(ctx context.Context, s *server, cases []testCase, record func(proto string, tc testCase, start time.Time, err error)) {
	var rpcCases []testCase
	for _, tc := range cases {
		if tc.rpc != nil {
			rpcCases = append(rpcCases, tc)
		}
	}
	var wg sync.WaitGroup
	for i, conn := range c.grpcConns {
		client := tmdbstatusv1.NewStatusServiceClient(conn)
		wg.Go(func() {
			for n := i; ctx.Err() == nil; n++ {
				tc := rpcCases[n%len(rpcCases)]
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), waitTimeout)
				start := time.Now()
				err := tc.doRPC(rctx, client)
				cancel()
				record("gRPC", tc, start, err)
				backOff(err)
			}
		})
	}
	base := "http://" + s.httpAddr
	for i, h := range c.http {
		wg.Go(func() {
			for n := i; ctx.Err() == nil; n++ {
				tc := cases[n%len(cases)]
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), waitTimeout)
				start := time.Now()
				err := tc.doREST(rctx, h, base)
				cancel()
				record("REST", tc, start, err)
				backOff(err)
			}
		})
	}
	wg.Wait()
}

// backOff pauses a client whose request got no answer, as the server
// refuses them by the thousand once it is shutting down.
func backOff(err error) {
	if _, ok := errors.AsType[*callError](err); ok {
		time.Sleep(time.Millisecond)
	}
}

// TestSoak drives the real binary with -soak.clients clients, half over
// gRPC and half over REST, sending the whole mix of requests for
// -soak.duration. No request may fail and every answer must be right (code
// and reason, not just the HTTP status); once the clients are gone, the
// server's connections, goroutines (when it exports them) and resident
// memory must be back to where they were.
func TestSoak(t *testing.T) {
	s := start(t)
	cases := mixedCases()
	fdsIdle := s.openFDs(t)
	goroutinesIdle, haveGoroutines := s.goroutines()

	var counts [2]tally // gRPC, REST
	record := func(proto string, tc testCase, _ time.Time, err error) {
		i := 0
		if proto == "REST" {
			i = 1
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", tc.name, err)
		}
		counts[i].add(proto, err)
	}

	// Warm up: the heap and the connections grow to what the load needs.
	warmup := min(*soakDuration/6, 10*time.Second)
	c := newClients(t, s, *soakClients)
	ctx, cancel := context.WithTimeout(context.Background(), warmup)
	c.run(ctx, s, cases, record)
	cancel()
	rssWarm := s.rssKiB(t)

	// The soak itself, sampling resident memory every second.
	began := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), *soakDuration)
	defer cancel()
	var rssPeak atomic.Int64
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if kib := int64(s.rssKiB(t)); kib > rssPeak.Load() {
					rssPeak.Store(kib)
				}
			}
		}
	}()
	c.run(ctx, s, cases, record)
	elapsed := time.Since(began)
	rssEnd := s.rssKiB(t)

	c.close()
	fdsAfter := settle(fdsIdle, func() int { return s.openFDs(t) })
	grpcOK, restOK := counts[0].ok.Load(), counts[1].ok.Load()
	failed := counts[0].failed.Load() + counts[1].failed.Load()
	total := grpcOK + restOK + failed
	t.Logf("soak: %d clients for %v (after a %v warm-up): %d requests (gRPC %d, REST %d), %d failed, %.0f req/s",
		*soakClients, elapsed.Round(time.Millisecond), warmup.Round(time.Millisecond), total, grpcOK+counts[0].failed.Load(), restOK+counts[1].failed.Load(), failed,
		float64(total)/(elapsed+warmup).Seconds())
	t.Logf("soak: VmRSS %d KiB after warm-up, %d KiB peak, %d KiB at the end; open fds %d idle, %d after the clients left",
		rssWarm, rssPeak.Load(), rssEnd, fdsIdle, fdsAfter)

	for i := range counts {
		for _, f := range counts[i].first {
			t.Errorf("failed request: %s", f)
		}
	}
	if failed != 0 {
		t.Errorf("%d of %d requests failed; want 0", failed, total)
	}
	if grpcOK == 0 || restOK == 0 {
		t.Errorf("gRPC %d, REST %d requests answered; want both > 0", grpcOK, restOK)
	}
	if fdsAfter > fdsIdle {
		t.Errorf("server holds %d fds after the clients left; want %d, as before the soak", fdsAfter, fdsIdle)
	}
	// Go keeps freed heap for a while; a leak grows with the requests.
	if limit := rssWarm + max(rssWarm/2, 16<<10); rssEnd > limit {
		t.Errorf("VmRSS %d KiB at the end; want at most %d KiB (%d KiB after warm-up)", rssEnd, limit, rssWarm)
	}
	if !haveGoroutines {
		t.Logf("soak: the binary exports no go_goroutines on %s/metrics: goroutines not checked", s.httpAddr)
		return
	}
	goroutinesAfter := settle(goroutinesIdle, func() int { n, _ := s.goroutines(); return n })
	t.Logf("soak: goroutines %d idle, %d after the clients left", goroutinesIdle, goroutinesAfter)
	if goroutinesAfter > goroutinesIdle {
		t.Errorf("server runs %d goroutines after the clients left; want %d, as before the soak", goroutinesAfter, goroutinesIdle)
	}
}
