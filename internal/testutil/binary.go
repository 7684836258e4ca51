// Package testutil holds what the tests that run the tmdbstatus binary
// share: building it, and serving it on loopback.
package testutil

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds the wait for a started binary to listen, and
// stopTimeout the wait for it to exit once interrupted.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 15 * time.Second
)

// BuildBinary builds cmd/tmdbstatus into a temporary folder of t, removed
// when the test ends, and returns its path. Build it once per test and start
// it as often as needed.
func BuildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tmdbstatus")
	build := exec.Command("go", "build", "-o", bin, "github.com/tmdbstatus/tmdbstatus/cmd/tmdbstatus")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tmdbstatus: %v\n%s", err, out)
	}
	return bin
}

// Server is a running `tmdbstatus serve`.
type Server struct {
	// GRPCAddr and HTTPAddr are its loopback addresses, host:port.
	GRPCAddr, HTTPAddr string

	log  *syncBuffer
	done chan error // receives cmd.Wait's result once
}

// Log returns what the server has written to stdout and stderr so far.
func (s *Server) Log() string { return s.log.String() }

// StartServe runs `bin serve` with --grpc-addr and --http-addr on two free
// loopback ports, and args after them, and waits, at most 10 s, until both
// accept connections. When the test ends it interrupts the server and fails
// the test unless the server exits cleanly within 15 s (then it is killed).
func StartServe(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{GRPCAddr: freeAddr(t), HTTPAddr: freeAddr(t), log: new(syncBuffer), done: make(chan error, 1)}
	cmd := exec.Command(bin, append([]string{"serve", "--grpc-addr", s.GRPCAddr, "--http-addr", s.HTTPAddr}, args...)...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(t, cmd) })

	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("tmdbstatus serve exited: %v\n%s", err, s.Log())
		default:
		}
		if listening(s.GRPCAddr) && listening(s.HTTPAddr) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tmdbstatus serve did not listen on %s and %s within %v\n%s", s.GRPCAddr, s.HTTPAddr, startTimeout, s.Log())
	return nil
}

// stop interrupts the server and waits for it to exit.
func (s *Server) stop(t testing.TB, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("tmdbstatus serve: %v\n%s", err, s.Log())
		}
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-s.done
		t.Errorf("tmdbstatus serve did not stop on SIGINT within %v; killed it\n%s", stopTimeout, s.Log())
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// syncBuffer is a bytes.Buffer that the process's output and a test may
// use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
