//go:build soak || abuse

package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

var soakBin = flag.String("soak.bin", "", "a tmdbstatus binary to test, instead of building one")

// waitTimeout bounds every wait: for the binary to start or exit, for one
// request.
const waitTimeout = 10 * time.Second

// gracePeriod is how long the binary may take to exit after SIGTERM: its
// shutdown timeout (10 s), within which every request must be answered.
const gracePeriod = 10 * time.Second

// binPath returns the binary to test: -soak.bin, or the one testutil builds.
func binPath(t *testing.T) string {
	t.Helper()
	if *soakBin != "" {
		return *soakBin
	}
	return testutil.BuildBinary(t)
}

// server is a running tmdbstatus binary.
type server struct {
	cmd      *exec.Cmd
	grpcAddr string
	httpAddr string
	log      *testutil.SyncBuffer
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // the result of cmd.Wait, once exited is closed
}

// start runs the binary on two free loopback ports, with flags after its
// own, and waits until both servers answer. The process is killed when the
// test ends, if it is still running.
func start(t *testing.T, flags ...string) *server {
	t.Helper()
	return startThrough(t, nil, flags...)
}

// startThrough is start with the binary run by launcher, a command such as
// prlimit that sets up the process and then executes its arguments in it.
func startThrough(t *testing.T, launcher []string, flags ...string) *server {
	t.Helper()
	bin := binPath(t)
	s := &server{grpcAddr: testutil.FreeAddr(t), httpAddr: testutil.FreeAddr(t), log: new(testutil.SyncBuffer), exited: make(chan struct{})}
	args := append(slices.Clone(launcher), bin, "serve", "--grpc-addr="+s.grpcAddr, "--http-addr="+s.httpAddr)
	args = append(args, flags...)
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	s.waitReady(t)
	return s
}

// waitReady waits until the gRPC health service says SERVING and the REST
// gateway answers.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", s.grpcAddr, err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			if r, err := http.Get("http://" + s.httpAddr + "/v1/statuses/1"); err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				if r.StatusCode == http.StatusOK {
					return
				}
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before it was ready: %v\n%s", s.waitErr, s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after %v:\n%s", waitTimeout, s.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rssKiB returns the resident memory of the process, VmRSS in
// /proc/PID/status, in KiB.
func (s *server) rssKiB(t *testing.T) int {
	t.Helper()
	n, err := s.statusKiB("VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// statusKiB returns a memory field of /proc/PID/status, such as VmRSS or
// VmHWM (the peak of VmRSS), in KiB.
func (s *server) statusKiB(field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read process status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				return 0, fmt.Errorf("%s %q: %w", field, rest, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
}

// openFDs returns the number of file descriptors the process holds: its
// listeners and one per open connection.
func (s *server) openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read process fds: %v", err)
	}
	return len(fds)
}

// goroutines returns the go_goroutines gauge of the binary's Prometheus
// metrics, if the REST port serves /metrics.
func (s *server) goroutines() (int, bool) {
	n, err := s.goroutinesVia(&http.Client{Timeout: waitTimeout})
	return n, err == nil
}

// goroutinesVia returns the go_goroutines gauge of /metrics on the REST
// port, fetched through c.
func (s *server) goroutinesVia(c *http.Client) (int, error) {
	resp, err := c.Get("http://" + s.httpAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int(f), err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("/metrics: %w", err)
	}
	return 0, fmt.Errorf("/metrics has no go_goroutines")
}

// signal sends sig to the process.
func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// settle polls f until it returns at most want, for up to waitTimeout, and
// returns its last value: what a server holds drops once clients are gone,
// but not at once.
func settle(want int, f func() int) int {
	deadline := time.Now().Add(waitTimeout)
	for {
		n := f()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answerControl acknowledges a SETTINGS or PING frame, as a client must.
func answerControl(fr *http2.Framer, f http2.Frame) error {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if !f.IsAck() {
			return fr.WriteSettingsAck()
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			return fr.WritePing(true, f.Data)
		}
	}
	return nil
}
