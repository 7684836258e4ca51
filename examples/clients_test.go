package examples_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// repoRoot is the repository's root, seen from this package's folder.
const repoRoot = ".."

// translateBody is the TMDB answer both clients translate.
const translateBody = `{"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`

// line prints a status as both clients do, from what the Go API reads in it.
func line(label string, st *status.Status) string {
	reason, domain, tmdbCode, httpStatus := "", "", "-", "-"
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason, domain = info.GetReason(), info.GetDomain()
			if domain == service.Domain {
				tmdbCode, httpStatus = cmp.Or(info.GetMetadata()["tmdbStatusCode"], "-"), cmp.Or(info.GetMetadata()["httpStatus"], "-")
			}
		}
	}
	delay := "-"
	if d, ok := service.RetryDelay(st.Err()); ok {
		delay = strconv.FormatInt(d.Milliseconds(), 10)
	}
	return fmt.Sprintf("%s: %s %s %s tmdbCode=%s httpStatus=%s retryable=%t retryDelayMs=%s\n",
		label, rpccode.Code(st.Code()), reason, domain, tmdbCode, httpStatus, service.IsRetryable(st.Err()), delay)
}

// wantOutput is what both clients must print: what the Go API, the Go
// service and its REST gateway, in process, answer to the same requests.
func wantOutput(t *testing.T) string {
	t.Helper()
	tr, err := service.Translate(&tmdbstatusv1.TranslateRequest{HttpStatus: 429, RetryAfter: "10", Body: translateBody})
	if err != nil {
		t.Fatal(err)
	}
	_, lookupErr := service.New().Lookup(context.Background(), &tmdbstatusv1.LookupRequest{Code: 99})
	rec := httptest.NewRecorder()
	gateway.New(service.New()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/statuses/99", nil))
	rest := &spb.Status{}
	if err := protojson.Unmarshal(rec.Body.Bytes(), rest); err != nil {
		t.Fatalf("GET /v1/statuses/99: %v", err)
	}
	e, _ := service.Lookup(25)
	return line("translate", tr.Status) + line("lookup 99", status.Convert(lookupErr)) +
		line("GET /v1/statuses/99", status.FromProto(rest)) +
		fmt.Sprintf("table 25: %s %d retryable=%t\n", e.Reason, e.HTTPStatus, e.Retryable)
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

// python returns Debian's Python, which has grpc (Debian's python3-grpcio),
// or the TMDBSTATUS_PYTHON variable: the python3 first on the PATH may be
// another one, which cannot see Debian's packages.
func python(t *testing.T) string {
	t.Helper()
	py := cmp.Or(os.Getenv("TMDBSTATUS_PYTHON"), "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import grpc, google.protobuf").Run(); err != nil {
		missing(t, "%s lacks grpc or protobuf (Debian: python3-grpcio python3-protobuf)", py)
	}
	return py
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
// and REST addresses; the server is stopped when the test ends.
func startServer(t *testing.T) (grpcAddr, httpAddr string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tmdbstatus")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tmdbstatus")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tmdbstatus: %v\n%s", err, out)
	}

	grpcAddr, httpAddr = freeAddr(t), freeAddr(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, "serve", "--grpc-addr", grpcAddr, "--http-addr", httpAddr)
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

	// Wait, a bounded time, for both ports to accept connections.
	for range 200 {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("tmdbstatus serve exited: %v\n%s", err, log.String())
		default:
		}
		if listening(grpcAddr) && listening(httpAddr) {
			return grpcAddr, httpAddr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tmdbstatus serve did not listen on %s and %s within 10s", grpcAddr, httpAddr)
	return "", ""
}

func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// TestClients runs the Node and Python examples, which decode each status
// with their language's tmdbstatus package, against the real binary, and
// requires what the Go API answers.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Node and Python")
	}
	clients := []struct {
		name string
		cmd  func(t *testing.T) []string
	}{
		{"node", func(t *testing.T) []string {
			if _, err := exec.LookPath("node"); err != nil {
				missing(t, "no node on the PATH")
			}
			for _, dir := range []string{"node", filepath.Join(repoRoot, "clients", "node")} {
				if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
					missing(t, "%s has no node_modules: run make client-deps", dir)
				}
			}
			return []string{"node", filepath.Join("node", "client.js")}
		}},
		{"python", func(t *testing.T) []string {
			return []string{python(t), filepath.Join("python", "client.py")}
		}},
	}
	grpcAddr, httpAddr := startServer(t)
	want := wantOutput(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.cmd(t), grpcAddr, httpAddr)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(repoRoot, "clients", "python"))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
			}
			if got := stdout.String(); got != want {
				t.Errorf("%s printed:\n%s\nwant (the Go API's answers):\n%s\nstderr:\n%s", strings.Join(args, " "), got, want, stderr.String())
			}
		})
	}
}
