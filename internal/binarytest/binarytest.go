// Package binarytest builds the tmdbstatus binary and runs it on loopback
// for tests that check what the binary serves, as its users get it.
package binarytest

import (
	"bytes"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait: for the binary to build, to start or to
// exit.
const waitTimeout = 2 * time.Minute

// Build builds cmd/tmdbstatus into a temporary folder of t and returns its
// path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tmdbstatus")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/tmdbstatus/tmdbstatus/cmd/tmdbstatus").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A Server is the binary, serving.
type Server struct {
	// URL is the base URL of the REST server, "http://127.0.0.1:port".
	URL string
	// GRPCAddr is the address of the gRPC server.
	GRPCAddr string
	// AdminURL is the base URL of the admin server, or "" if it has none.
	AdminURL string

	log *syncBuffer
}

// Log returns what the binary has written to its stdout and stderr.
func (s *Server) Log() string { return s.log.String() }

// Serve runs `bin serve` with args on free loopback ports (and an admin
// port if admin is true) and waits until its REST server answers
// /healthz. The process is killed when t ends.
func Serve(t testing.TB, bin string, admin bool, args ...string) *Server {
	t.Helper()
	s := &Server{GRPCAddr: freeAddr(t), log: new(syncBuffer)}
	httpAddr := freeAddr(t)
	s.URL = "http://" + httpAddr
	args = append([]string{"serve", "--grpc-addr=" + s.GRPCAddr, "--http-addr=" + httpAddr, "--shutdown-delay=0s"}, args...)
	if admin {
		adminAddr := freeAddr(t)
		s.AdminURL = "http://" + adminAddr
		args = append(args, "--admin-addr="+adminAddr)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("the binary's log:\n%s", s.log)
		}
	})
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	deadline := time.Now().Add(waitTimeout)
	for {
		if resp, err := probe.Get(s.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("the binary exited before it served:\n%s", s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the binary did not serve within %v:\n%s", waitTimeout, s.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen: %v", err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// syncBuffer is a bytes.Buffer the process and a test can share.
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
