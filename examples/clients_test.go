package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// repoRoot is the repository's root, seen from this package's folder.
const repoRoot = ".."

// wantHead is what both clients print before the table.
const wantHead = `lookup 7: UNAUTHENTICATED INVALID_API_KEY retryable=false
translate: RESOURCE_EXHAUSTED Your request count (41) is over the allowed limit of (40).
  ErrorInfo: REQUEST_LIMIT_EXCEEDED api.themoviedb.org httpStatus=429 requestCount=41 requestLimit=40 tmdbStatusCode=25
  RetryInfo: 10s
  google.rpc.QuotaFailure
  google.rpc.Help
lookup 99 error: NOT_FOUND TMDB status code 99 is not in TMDB's table
  ErrorInfo: UNKNOWN_CODE tmdbstatus.github.io code=99
`

// wantOutput is what both clients print: wantHead, then the table they read
// from the proto, which must be the table the Go service reads from it.
func wantOutput() string {
	var b strings.Builder
	b.WriteString(wantHead)
	entries := service.Entries()
	fmt.Fprintf(&b, "table from the proto: %d codes\n", len(entries))
	for _, e := range entries {
		retry := ""
		if e.Retryable {
			retry = " retryable"
		}
		fmt.Fprintf(&b, "  %d %d %s %s%s\n", e.TMDBCode(), e.HTTPStatus, rpccode.Code(e.Code), e.Reason, retry)
	}
	return b.String()
}

// missing skips the test when a prerequisite is missing on a developer's
// machine, and fails it in CI (CI set), which installs them all.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI must install it: see .ci/run)", msg)
	}
	t.Skipf("%s: see examples/README.md", msg)
}

// python returns a Python interpreter that has grpc and grpc_tools: the
// TMDBSTATUS_PYTHON variable, else python3 on the PATH, else Debian's own
// (the PATH may lead to another Python, which cannot see Debian's packages).
func python(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("TMDBSTATUS_PYTHON"), "python3", "/usr/bin/python3"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if err := exec.Command(c, "-c", "import grpc, grpc_tools").Run(); err == nil {
			return c
		}
	}
	missing(t, "no python3 with grpc and grpc_tools (Debian: python3-grpcio python3-grpc-tools)")
	return ""
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// startServer builds tmdbstatus, serves it on loopback and returns its gRPC
// address; the server is stopped when the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tmdbstatus")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tmdbstatus")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tmdbstatus: %v\n%s", err, out)
	}

	grpcAddr := freeAddr(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, "serve", "--grpc-addr", grpcAddr, "--http-addr", freeAddr(t))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("tmdbstatus serve: %v\n%s", err, log.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("tmdbstatus serve did not stop on SIGINT; killed it\n%s", log.String())
		}
	})

	// Wait, a bounded time, for the gRPC port to accept connections.
	for range 200 {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("tmdbstatus serve exited: %v\n%s", err, log.String())
		default:
		}
		if conn, err := net.DialTimeout("tcp", grpcAddr, time.Second); err == nil {
			conn.Close()
			return grpcAddr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tmdbstatus serve did not listen on %s within 10s", grpcAddr)
	return ""
}

// TestClients runs the Node and Python clients against the real binary and
// checks that both print what the service and the proto say.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Node and Python")
	}
	// googleapis' protos, which the clients load, the way `make generate`
	// fetches them.
	deps := exec.Command("make", "deps")
	deps.Dir = repoRoot
	if out, err := deps.CombinedOutput(); err != nil {
		missing(t, "make deps: %v\n%s", err, out)
	}

	clients := []struct {
		name string
		cmd  func(t *testing.T) []string
	}{
		{"node", func(t *testing.T) []string {
			if _, err := exec.LookPath("node"); err != nil {
				missing(t, "no node on the PATH")
			}
			if _, err := os.Stat(filepath.Join("node", "node_modules")); err != nil {
				missing(t, "examples/node has no node_modules: run npm ci there")
			}
			return []string{"node", filepath.Join("node", "client.js")}
		}},
		{"python", func(t *testing.T) []string {
			return []string{python(t), filepath.Join("python", "client.py")}
		}},
	}
	addr := startServer(t)
	want := wantOutput()
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.cmd(t), addr)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("%s: %v", strings.Join(args, " "), err)
				}
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
			}
			if got := stdout.String(); got != want {
				t.Errorf("%s printed:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(args, " "), got, want, stderr.String())
			}
		})
	}
}
