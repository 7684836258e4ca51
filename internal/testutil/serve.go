package testutil

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer that a process's output or a server's logger
// and a test may use at the same time. The zero value is ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// NoExitPause is the environment entry that spares a binary built with -race
// the race detector's one-second pause when it exits.
var NoExitPause = "GORACE=" + os.Getenv("GORACE") + " atexit_sleep_ms=0"

// Server is a running `tmdbstatus serve`.
type Server struct {
	// GRPCAddr and HTTPAddr are its loopback addresses, host:port.
	GRPCAddr, HTTPAddr string
	// URL is the base URL of its REST server, "http://" + HTTPAddr.
	URL string

	log  SyncBuffer
	done chan error // receives cmd.Wait's result once
}

// Log returns what the server has written to stdout and stderr so far.
func (s *Server) Log() string { return s.log.String() }

// StartServe runs `bin serve` on two free loopback ports with
// --shutdown-delay=0s, and args after them, and waits up to 30 s until its
// gRPC port accepts connections and its /healthz answers 200. When the test
// ends it interrupts the server and fails the test unless the server exits
// with status 0 within 15 s (then it is killed); the server's log is logged
// if the test failed.
func StartServe(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{GRPCAddr: FreeAddr(t), HTTPAddr: FreeAddr(t), done: make(chan error, 1)}
	s.URL = "http://" + s.HTTPAddr
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"serve", "--grpc-addr=" + s.GRPCAddr,
		"--http-addr=" + s.HTTPAddr, "--shutdown-delay=0s"}, args...)...)
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	cmd.Env = append(os.Environ(), NoExitPause)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second // Then it is killed.
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		<-s.done
		if !cmd.ProcessState.Success() {
			t.Errorf("tmdbstatus serve, interrupted: %v; want exit status 0 within 15s\n%s",
				cmd.ProcessState, s.Log())
		} else if t.Failed() {
			t.Logf("tmdbstatus serve's log:\n%s", s.Log())
		}
	})

	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("tmdbstatus serve exited: %v\n%s", err, s.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if s.ready() {
			return s
		}
	}
	t.Fatalf("tmdbstatus serve did not serve on %s and %s within 30s\n%s",
		s.GRPCAddr, s.HTTPAddr, s.Log())
	return nil
}

// ready reports whether the gRPC port accepts connections and /healthz
// answers 200.
func (s *Server) ready() bool {
	conn, err := net.DialTimeout("tcp", s.GRPCAddr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	resp, err := probe.Get(s.URL + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
