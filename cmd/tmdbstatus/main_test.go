package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// TestMain runs main instead of the tests when runMainEnv is set, so that
// TestExit can run the command as a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const runMainEnv = "TMDBSTATUS_TEST_RUN_MAIN"

// runCmd runs the command line args as main does, with an empty stdin.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, nil, args, &stdio{strings.NewReader(""), stdout, stderr})
}

// isUsage reports whether err is the error of a command line refused: exit 2.
func isUsage(err error) bool {
	_, ok := errors.AsType[usageError](err)
	return ok
}

// waitForLog waits until the log holds a match of re and returns the
// match's submatches.
func waitForLog(t *testing.T, log *testutil.SyncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(testutil.WaitTimeout)
	for {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("log has no match of %v after %v:\n%s", re, testutil.WaitTimeout, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var listeningRE = regexp.MustCompile(`msg="HTTP server listening" addr=(\S+)`)

// TestRun runs the command line as main does, on port 0, learning the HTTP
// address from the log.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testutil.SyncBuffer
	done := make(chan error, 1)
	args := []string{"serve", "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}
	go func() { done <- runCmd(ctx, args, &stdout, &stderr) }()

	url := "http://" + waitForLog(t, &stderr, listeningRE)[1] + "/v1/statuses/7"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s = %d; want %d", url, resp.StatusCode, http.StatusOK)
	}

	cancel()
	testutil.WaitDone(t, "run", done)
	if stdout.String() != "" {
		t.Errorf("run wrote %q to stdout; want nothing", stdout.String())
	}
}

// TestRunAddressInUse checks that run fails at once, with the address in
// the error, when it cannot listen.
func TestRunAddressInUse(t *testing.T) {
	taken := testutil.Listen(t)
	defer taken.Close()
	for _, flagName := range []string{"--grpc-addr", "--http-addr"} {
		args := []string{"serve", "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", flagName + "=" + taken.Addr().String()}
		var stdout, stderr testutil.SyncBuffer
		err := runCmd(t.Context(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
			t.Errorf("run(%q) = %v; want an error naming %s", args, err, taken.Addr())
		}
	}
}

// TestParseArgs checks the command line outside a command's flags: no
// command, an unknown one, and help.
func TestParseArgs(t *testing.T) {
	tests := []struct {
		args       []string
		wantErr    error  // nil for a usage error, or flag.ErrHelp.
		wantStdout string // Held by stdout.
		wantStderr string // Held by stderr.
	}{
		{nil, nil, "", "Usage: tmdbstatus <command> [flags]"},
		{[]string{"srve"}, nil, "", "tmdbstatus: unexpected argument srve, did you mean \"serve\"? (see tmdbstatus --help)\n"},
		{[]string{"--bogus"}, nil, "", "tmdbstatus: unknown flag --bogus (see tmdbstatus --help)\n"},
		{[]string{"serve", "--help"}, flag.ErrHelp, "--grpc-addr=\":9090\"", ""},
		{[]string{"help"}, flag.ErrHelp, "Usage: tmdbstatus <command> [flags]", ""},
		{[]string{"help", "serve"}, flag.ErrHelp, "Usage: tmdbstatus serve [flags]", ""},
		{[]string{"-h"}, flag.ErrHelp, "Usage: tmdbstatus <command> [flags]", ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		_, err := parse(tt.args, &stdout, &stderr)
		if tt.wantErr == nil && !isUsage(err) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("parse(%q) error = %v; want %v", tt.args, err, tt.wantErr)
		}
		if !strings.Contains(stdout.String(), tt.wantStdout) || tt.wantStdout == "" && stdout.Len() != 0 {
			t.Errorf("parse(%q) stdout = %q; want %q in it", tt.args, stdout.String(), tt.wantStdout)
		}
		if !strings.Contains(stderr.String(), tt.wantStderr) || tt.wantStderr == "" && stderr.Len() != 0 {
			t.Errorf("parse(%q) stderr = %q; want %q in it", tt.args, stderr.String(), tt.wantStderr)
		}
	}
}

// command returns the command that runs main with args, as a process of
// its own.
func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	// Without the race detector's second of sleep at exit.
	cmd.Env = append(os.Environ(), runMainEnv+"=1", testutil.NoExitPause)
	return cmd
}

// exitCode returns the exit status of a command that returned err.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("run command: %v", err)
	}
	return 0
}

// TestExit runs the command as a process, to check its exit status (0 when
// done, a translated TMDB failure included, 1 for a failed RPC, 2 for a bad
// command line) and the handling of SIGTERM.
func TestExit(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		want  int
	}{
		{nil, "", 2},
		{[]string{"srve"}, "", 2},
		{[]string{"serve", "--port=1"}, "", 2},
		{[]string{"serve", "--http-read-timeout=soon"}, "", 2},
		{[]string{"serve", "--log-format=xml"}, "", 2},
		{[]string{"serve", "--tls-cert=missing.pem", "--tls-key=missing.key"}, "", 2},
		{[]string{"serve", "--help"}, "", 0},
		{[]string{"lookup", "7", "--offline"}, "", 0},
		{[]string{"translate", "--offline"}, notFoundBody, 0},
		{[]string{"list", "--help"}, "", 0},
		{[]string{"lookup", "99", "--offline"}, "", 1},
		{[]string{"list", "--addr", testutil.FreeAddr(t), "--timeout=5s"}, "", 1},
		{[]string{"lookup", "x", "--offline"}, "", 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			cmd := command(testutil.Context(t), tt.args...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			out, err := cmd.CombinedOutput()
			if got := exitCode(t, err); got != tt.want {
				t.Errorf("tmdbstatus %q exited %d; want %d; output:\n%s", tt.args, got, tt.want, out)
			}
			// A bad flag of serve is one line naming it.
			if tt.want == 2 && len(tt.args) > 1 && tt.args[0] == "serve" {
				flagName, _, _ := strings.Cut(tt.args[len(tt.args)-1], "=")
				if strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), strings.TrimLeft(flagName, "-")) {
					t.Errorf("tmdbstatus %q output = %q; want one line naming %s", tt.args, out, flagName)
				}
			}
		})
	}

	t.Run("SIGTERM", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), testutil.WaitTimeout)
		defer cancel()
		cmd := command(ctx, "serve", "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start: %v", err)
		}
		var log strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if listeningRE.MatchString(sc.Text()) {
				break
			}
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM: %v", err)
		}
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
		if got := exitCode(t, cmd.Wait()); got != 0 {
			t.Errorf("tmdbstatus serve exited %d after SIGTERM; want 0; log:\n%s", got, log.String())
		}
		if !strings.Contains(log.String(), `msg="shutting down" cause="terminated signal received"`) {
			t.Errorf("log:\n%s\nwant a shutting down line naming the signal", log.String())
		}
	})

	t.Run("second SIGTERM", func(t *testing.T) {
		t.Parallel()
		// A long shutdown delay, which a second signal cuts short: the
		// drain follows, and the process exits 0.
		ctx, cancel := context.WithTimeout(t.Context(), testutil.WaitTimeout)
		defer cancel()
		cmd := command(ctx, "serve", "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--shutdown-delay=1m")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start: %v", err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() && !listeningRE.MatchString(sc.Text()) {
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM: %v", err)
		}
		var log strings.Builder
		for sc.Scan() && !strings.Contains(sc.Text(), "shutting down") {
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("second SIGTERM: %v", err)
		}
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
		// Within testutil.WaitTimeout, not the delay's minute.
		if got := exitCode(t, cmd.Wait()); got != 0 || ctx.Err() != nil {
			t.Errorf("tmdbstatus serve after a second SIGTERM exited %d (%v); want 0 at once; log:\n%s", got, ctx.Err(), log.String())
		}
		if !strings.Contains(log.String(), "shutdown delay cut short") {
			t.Errorf("log after the second SIGTERM:\n%s\nwant the delay cut short", log.String())
		}
	})
}
