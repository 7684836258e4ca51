package examples_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
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
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
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

// node returns node, or skips (fails in CI) when node or the packages of
// the examples and the Node client are missing.
func node(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "no node on the PATH")
	}
	for _, dir := range []string{"node", filepath.Join(repoRoot, "clients", "node")} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
			missing(t, "%s has no node_modules: run make client-deps", dir)
		}
	}
	return "node"
}

// TestClients runs, against the real binary, the Node and Python examples,
// which decode each status with their language's tmdbstatus package, and
// requires what the Go API answers; then each package's own tests of the
// binary (clients/node/test/binary.test.js, clients/python/tests/
// test_binary.py), which translate the whole corpus over gRPC and REST and
// must decode each answer as Go decodes its golden fixture.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Node and Python")
	}
	srv := testutil.StartServe(t, testutil.BuildBinary(t))
	want := wantOutput(t)
	for _, c := range []struct {
		name string
		cmd  func(t *testing.T) []string
	}{
		{"node", func(t *testing.T) []string { return []string{node(t), filepath.Join("node", "client.js")} }},
		{"python", func(t *testing.T) []string { return []string{python(t), filepath.Join("python", "client.py")} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.cmd(t), srv.GRPCAddr, srv.HTTPAddr)
			env := []string{"PYTHONPATH=" + filepath.Join(repoRoot, "clients", "python")}
			if got, stderr := run(t, "", env, args...); got != want {
				t.Errorf("%s printed:\n%s\nwant (the Go API's answers):\n%s\nstderr:\n%s", strings.Join(args, " "), got, want, stderr)
			}
		})
	}
	for _, c := range []struct {
		name, dir string
		cmd       func(t *testing.T) []string
		skipped   string // in the output when a test skipped
	}{
		{"node package", filepath.Join(repoRoot, "clients", "node"),
			func(t *testing.T) []string { return []string{node(t), "--test", "test/binary.test.js"} }, "# skipped 1"},
		{"python package", filepath.Join(repoRoot, "clients", "python"),
			func(t *testing.T) []string { return []string{python(t), "-m", "unittest", "-v", "tests.test_binary"} }, "skipped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.cmd(t)
			env := []string{"TMDBSTATUS_GRPC_ADDR=" + srv.GRPCAddr, "TMDBSTATUS_HTTP_ADDR=" + srv.HTTPAddr}
			// Python's unittest reports on stderr.
			if stdout, stderr := run(t, c.dir, env, args...); strings.Contains(stdout+stderr, c.skipped) {
				t.Errorf("%s skipped its tests of the binary:\n%s%s", strings.Join(args, " "), stdout, stderr)
			}
		})
	}
}

// run runs args in dir with env added, for at most two minutes, and returns
// its stdout and stderr; it fails the test if the command fails.
func run(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}
