package testutil

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// startTimeout bounds the wait for a started binary to serve, and
// stopTimeout the wait for it to exit once interrupted.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

// Server is a running `tmdbstatus serve`.
type Server struct {
	// GRPCAddr and HTTPAddr are its loopback addresses, host:port.
	GRPCAddr, HTTPAddr string
	// URL is the base URL of its REST server, "http://" + HTTPAddr.
	URL string

	log  *SyncBuffer
	done chan error // receives cmd.Wait's result once
}

// Log returns what the server has written to stdout and stderr so far.
func (s *Server) Log() string { return s.log.String() }

// StartServe runs `bin serve` on two free loopback ports with
// --shutdown-delay=0s, and args after them, and waits until its gRPC port
// accepts connections and its /healthz answers 200. When the test ends it
// interrupts the server and fails the test unless the server exits with
// status 0 within 15 s (then it is killed); the server's log is logged if
// the test failed.
func StartServe(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{GRPCAddr: FreeAddr(t), HTTPAddr: FreeAddr(t), log: new(SyncBuffer), done: make(chan error, 1)}
	s.URL = "http://" + s.HTTPAddr
	args = append([]string{"serve", "--grpc-addr=" + s.GRPCAddr, "--http-addr=" + s.HTTPAddr, "--shutdown-delay=0s"}, args...)
	cmd := exec.Command(bin, args...)
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
		if s.ready() {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("tmdbstatus serve did not serve on %s and %s within %v\n%s", s.GRPCAddr, s.HTTPAddr, startTimeout, s.Log())
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

// stop interrupts the server and waits for it to exit.
func (s *Server) stop(t testing.TB, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("tmdbstatus serve: %v\n%s", err, s.Log())
		} else if t.Failed() {
			t.Logf("tmdbstatus serve's log:\n%s", s.Log())
		}
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-s.done
		t.Errorf("tmdbstatus serve did not stop on SIGINT within %v; killed it\n%s", stopTimeout, s.Log())
	}
}
