package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// startClientTestServer serves StatusService over gRPC on a loopback port,
// with creds if not nil, until the test ends, and returns its address.
func startClientTestServer(t *testing.T, creds credentials.TransportCredentials) string {
	t.Helper()
	lis := testutil.Listen(t)
	var opts []grpc.ServerOption
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	s := grpc.NewServer(opts...)
	tmdbstatusv1.RegisterStatusServiceServer(s, service.New())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return lis.Addr().String()
}

// runClientArgs runs the client command line args with the variables env
// set and stdin as given, and returns its output and error.
func runClientArgs(t *testing.T, args []string, env map[string]string, stdin string) (stdout, stderr string, err error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	err = run(t.Context(), nil, args, &stdio{strings.NewReader(stdin), &out, &errOut})
	return out.String(), errOut.String(), err
}

const notFoundBody = `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`

// TestClientOutput runs every client command over gRPC to a server on
// loopback and with --offline, and checks that both print the same, and
// what they print.
func TestClientOutput(t *testing.T) {
	addr := startClientTestServer(t, nil)
	tests := []struct {
		args  []string
		stdin string
		want  []string // Lines (whitespace runs as one space) the output must have.
	}{
		{
			args: []string{"lookup", "7"},
			want: []string{
				"CODE HTTP GRPC CODE REASON RETRYABLE MESSAGE",
				"7 401 UNAUTHENTICATED INVALID_API_KEY no Invalid API key: You must be granted a valid key.",
			},
		},
		{
			args: []string{"lookup", "--json=false", "--", "25"}, // "--" ends the flags.
			want: []string{"25 429 RESOURCE_EXHAUSTED REQUEST_LIMIT_EXCEEDED yes Your request count (#) is over the allowed limit of (40)."},
		},
		{
			args: []string{"list"},
			want: []string{
				"CODE HTTP GRPC CODE REASON RETRYABLE MESSAGE",
				"1 200 OK SUCCESS no Success.",
				"21 200 NOT_FOUND ENTRY_NOT_FOUND no Entry not found: The item you are trying to edit cannot be found.",
				"47 400 INVALID_ARGUMENT INVALID_INPUT no The input is not valid.",
			},
		},
		{
			args:  []string{"translate"},
			stdin: notFoundBody,
			want: []string{
				"code NOT_FOUND",
				"message The resource you requested could not be found.",
				"reason RESOURCE_NOT_FOUND",
				"domain api.themoviedb.org",
				"metadata httpStatus=404",
				"metadata tmdbStatusCode=34",
				"help TMDB API errors: https://developer.themoviedb.org/docs/errors",
				"tmdb status 34 TMDB_STATUS_RESOURCE_NOT_FOUND (HTTP 404, retryable: no)",
			},
		},
		{
			args:  []string{"translate", "--http-status=429", "--retry-after", "10"},
			stdin: `{"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`,
			want: []string{
				"code RESOURCE_EXHAUSTED",
				"metadata requestCount=41",
				"retry after 10s",
				"quota failure api_key: Your request count (41) is over the allowed limit of (40).",
			},
		},
		{
			args:  []string{"translate", "--http-status", "502"},
			stdin: "<html><body>Bad Gateway</body></html>",
			want:  []string{"code UNAVAILABLE", "reason NO_STATUS_CODE", "metadata httpStatus=502"},
		},
		{
			args:  []string{"translate"},
			stdin: `{"success":true,"status_code":1,"status_message":"Success."}`,
			want:  []string{"code OK", "tmdb status 1 TMDB_STATUS_SUCCESS (HTTP 200, retryable: no)"},
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			remote, stderr, err := runClientArgs(t, append([]string{tt.args[0], "--addr", addr}, tt.args[1:]...), nil, tt.stdin)
			if err != nil {
				t.Fatalf("run %q over gRPC = %v (stderr %q); want nil", tt.args, err, stderr)
			}
			offline, stderr, err := runClientArgs(t, append([]string{tt.args[0], "--offline"}, tt.args[1:]...), nil, tt.stdin)
			if err != nil {
				t.Fatalf("run %q --offline = %v (stderr %q); want nil", tt.args, err, stderr)
			}
			if remote != offline {
				t.Errorf("run %q over gRPC printed\n%s\nand --offline\n%s\nwant the same", tt.args, remote, offline)
			}
			lines := map[string]bool{}
			for line := range strings.Lines(remote) {
				lines[strings.Join(strings.Fields(line), " ")] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("run %q printed\n%s\nwant a line %q", tt.args, remote, w)
				}
			}
		})
	}
}

// TestClientTableAligned checks that the table's columns line up.
func TestClientTableAligned(t *testing.T) {
	out, _, err := runClientArgs(t, []string{"list", "--offline"}, nil, "")
	if err != nil {
		t.Fatalf("list --offline = %v; want nil", err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got, want := len(lines), len(service.Entries())+1; got != want {
		t.Fatalf("list --offline printed %d lines; want %d", got, want)
	}
	col := strings.Index(lines[0], "MESSAGE")
	for _, line := range lines[1:] {
		if len(line) <= col || line[col-1] != ' ' || line[col] == ' ' {
			t.Errorf("list --offline line %q; want its message at column %d, under MESSAGE", line, col)
		}
	}
}

// TestClientJSON checks that --json prints the RPC's response as protojson,
// the same over gRPC and offline.
// retryableFalse matches a "retryable" field written out at its default.
var retryableFalse = regexp.MustCompile(`"retryable":\s*false`)

func TestClientJSON(t *testing.T) {
	addr := startClientTestServer(t, nil)
	srv := service.New()
	ctx := t.Context()
	lookup, _ := srv.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7})
	list, _ := srv.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{})
	translate, err := srv.Translate(ctx, &tmdbstatusv1.TranslateRequest{Body: notFoundBody, HttpStatus: 404})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		stdin string
		want  proto.Message
	}{
		{[]string{"lookup", "--json", "7"}, "", lookup},
		{[]string{"list", "--json"}, "", list},
		{[]string{"translate", "--json", "--http-status=404"}, notFoundBody, translate},
	}
	for _, tt := range tests {
		for _, mode := range []string{"--addr=" + addr, "--offline"} {
			out, stderr, err := runClientArgs(t, append(tt.args, mode), nil, tt.stdin)
			if err != nil {
				t.Errorf("run %q %s = %v (stderr %q); want nil", tt.args, mode, err, stderr)
				continue
			}
			got := tt.want.ProtoReflect().New().Interface()
			if err := protojson.Unmarshal([]byte(out), got); err != nil {
				t.Errorf("run %q %s printed %q: %v; want protojson", tt.args, mode, out, err)
			} else if g, w := protojson.Format(got), protojson.Format(tt.want); g != w {
				// Not proto.Equal: the details are Any values, whose bytes
				// depend on the order their maps were written in.
				t.Errorf("run %q %s printed %s; want %s", tt.args, mode, g, w)
			}
			// protojson varies its spacing at random, so match the JSON
			// shape loosely: the key with its default value.
			if !retryableFalse.MatchString(out) {
				t.Errorf("run %q %s printed %s; want fields at their default value written out", tt.args, mode, out)
			}
		}
	}
}

// TestClientErrors checks the errors of client commands: a usage error
// (exit status 2) for a command line it refuses, before any RPC, and any
// other error (1) for a failed RPC, named by its canonical code.
func TestClientErrors(t *testing.T) {
	addr := startClientTestServer(t, nil)
	closed := testutil.FreeAddr(t)
	tests := []struct {
		args      []string
		env       map[string]string
		stdin     string
		wantUsage bool
		wantErr   string // In the error, or on stderr for a usage error.
	}{
		{args: []string{"lookup"}, wantUsage: true, wantErr: `expected "<code>"`},
		{args: []string{"lookup", "seven"}, wantUsage: true, wantErr: `<code>: expected a valid 32 bit int but got "seven"`},
		{args: []string{"lookup", "7", "8"}, wantUsage: true, wantErr: `unexpected argument 8`},
		{args: []string{"lookup", "99999999999"}, wantUsage: true, wantErr: `"99999999999"`},
		{args: []string{"list", "extra"}, wantUsage: true, wantErr: `unexpected argument extra`},
		{args: []string{"list", "--bogus"}, wantUsage: true, wantErr: "unknown flag --bogus"},
		{args: []string{"list", "--timeout=0s"}, wantUsage: true, wantErr: `--timeout "0s": must be positive`},
		{args: []string{"list"}, env: map[string]string{"TMDBSTATUS_TIMEOUT": "soon"}, wantUsage: true, wantErr: `(from envar TMDBSTATUS_TIMEOUT="soon")`},
		{args: []string{"list", "--addr="}, wantUsage: true, wantErr: `--addr "": must not be empty`},
		{args: []string{"list", "--tls-cert=c.pem"}, wantUsage: true, wantErr: "--tls-cert and --tls-key must be used together"},
		{args: []string{"list", "--tls-ca", filepath.Join(t.TempDir(), "missing.pem")}, wantUsage: true, wantErr: "--tls-ca"},
		{args: []string{"translate", "--http-status=42"}, wantUsage: true, wantErr: "--http-status 42"},
		{args: []string{"translate", "--http-status=x"}, wantUsage: true, wantErr: "--http-status"},
		{args: []string{"translate", "--header=Retry-After"}, wantUsage: true, wantErr: `--header "Retry-After": want 'Name: value'`},
		{args: []string{"translate", "--body-file", filepath.Join(t.TempDir(), "missing")}, wantUsage: true, wantErr: "--body-file"},
		{args: []string{"lookup", "--json"}, wantUsage: true, wantErr: `expected "<code>"`},
		// The service refuses these: RPC errors, over gRPC as offline,
		// named by their canonical code.
		{args: []string{"lookup", "99", "--addr", addr}, wantErr: "NOT_FOUND: TMDB status code 99"},
		{args: []string{"lookup", "99", "--offline"}, wantErr: "NOT_FOUND: TMDB status code 99"},
		// A negative number is an argument, not a flag.
		{args: []string{"lookup", "-1", "--offline"}, wantErr: "INVALID_ARGUMENT: code -1"},
		{args: []string{"lookup", "--addr", addr, "-1"}, wantErr: "INVALID_ARGUMENT: code -1"},
		{args: []string{"lookup", "--offline", "--", "-1"}, wantErr: "INVALID_ARGUMENT: code -1"},
		{args: []string{"lookup", "--offline", "--", "1", "2"}, wantUsage: true, wantErr: `unexpected argument 2`},
		{args: []string{"translate", "--addr", addr}, wantErr: "INVALID_ARGUMENT: "},
		// No server there, with a hint; TMDBSTATUS_ADDR sets --addr.
		{args: []string{"list", "--addr", closed}, wantErr: `UNAVAILABLE: nothing listens at ` + closed + `: is "tmdbstatus serve" running?`},
		{args: []string{"list"}, env: map[string]string{"TMDBSTATUS_ADDR": closed}, wantErr: closed},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, err := runClientArgs(t, tt.args, tt.env, tt.stdin)
			switch {
			case err == nil:
				t.Errorf("run %q = nil; want an error", tt.args)
			case isUsage(err) != tt.wantUsage:
				t.Errorf("run %q = %v; want a usage error: %v", tt.args, err, tt.wantUsage)
			case tt.wantUsage && (!strings.Contains(stderr, tt.wantErr) || strings.Count(stderr, "\n") != 1):
				t.Errorf("run %q stderr = %q; want one line naming %q", tt.args, stderr, tt.wantErr)
			case !tt.wantUsage && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("run %q = %v; want an error naming %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

// TestClientHelp checks that --help prints each command's usage and
// flags, with their variables, to stdout, and is no error.
func TestClientHelp(t *testing.T) {
	for _, cmd := range []string{"lookup", "list", "translate"} {
		out, stderr, err := runClientArgs(t, []string{cmd, "--help"}, nil, "")
		if !errors.Is(err, flag.ErrHelp) || stderr != "" {
			t.Errorf("run %s --help = %v, stderr %q; want flag.ErrHelp and no stderr", cmd, err, stderr)
		}
		for _, want := range []string{"Usage: tmdbstatus " + cmd, "--addr", "--json", "--offline", "$TMDBSTATUS_ADDR", "$TMDBSTATUS_TIMEOUT"} {
			if !strings.Contains(out, want) {
				t.Errorf("run %s --help printed\n%s\nwant %q in it", cmd, out, want)
			}
		}
	}
	out, _, _ := runClientArgs(t, []string{"translate", "--help"}, nil, "")
	for _, want := range []string{"--http-status", "--retry-after", "--header", "--body-file"} {
		if !strings.Contains(out, want) {
			t.Errorf("run translate --help printed\n%s\nwant %q in it", out, want)
		}
	}
}

// TestTranslateInputs checks what translate reads besides stdin: its
// headers, a body file, and a warning for a Retry-After it cannot read.
func TestTranslateInputs(t *testing.T) {
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, []byte(notFoundBody), 0o600); err != nil {
		t.Fatal(err)
	}
	limited := `{"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`
	tests := []struct {
		args       []string
		stdin      string
		want       string // A line of stdout, whitespace runs as one space.
		wantStderr string
	}{
		{[]string{"--body-file", bodyFile}, "ignored", "code NOT_FOUND", ""},
		{[]string{"--header", "Retry-After: 7", "--header=Via: 1.1 a, 1.1 b"}, limited, "retry after 7s", ""},
		{[]string{"--retry-after", "soon"}, limited, "retry after 1s", `tmdbstatus translate: warning: --retry-after "soon" is neither seconds nor an HTTP-date: it is ignored` + "\n"},
		{[]string{"--retry-after", "3"}, limited, "retry after 3s", ""},
		{[]string{"--retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}, limited, "retry after 0s", ""}, // A date past.
	}
	for _, tt := range tests {
		args := append([]string{"translate", "--offline"}, tt.args...)
		out, stderr, err := runClientArgs(t, args, nil, tt.stdin)
		if err != nil || stderr != tt.wantStderr {
			t.Errorf("run %q = %v, stderr %q; want nil, %q", args, err, stderr, tt.wantStderr)
		}
		if !strings.Contains(strings.Join(strings.Fields(out), " "), tt.want) {
			t.Errorf("run %q printed\n%s\nwant a line %q", args, out, tt.want)
		}
	}
}

// TestTranslateTerminal checks that translate with a terminal on stdin,
// and no --body-file, has nothing to read: a usage error.
func TestTranslateTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no terminal to test with: %v", err)
	}
	defer ptmx.Close()
	var stderr bytes.Buffer
	err = run(t.Context(), nil, []string{"translate", "--offline"}, &stdio{ptmx, io.Discard, &stderr})
	if !isUsage(err) || !strings.HasPrefix(stderr.String(), "tmdbstatus translate: nothing to translate") {
		t.Errorf("translate with a terminal on stdin = %v, stderr %q; want a usage error saying there is nothing to translate", err, stderr.String())
	}
}

// TestRoundDelay checks that delays are printed as a person reads them.
func TestRoundDelay(t *testing.T) {
	tests := []struct {
		d, want time.Duration
	}{
		{time.Second, time.Second},
		{1500*time.Millisecond - time.Nanosecond, time.Second},
		{9*time.Second + 999999*time.Microsecond, 10 * time.Second},
		{1234567 * time.Nanosecond, time.Millisecond},
		{0, 0},
	}
	for _, tt := range tests {
		if got := roundDelay(tt.d); got != tt.want {
			t.Errorf("roundDelay(%v) = %v; want %v", tt.d, got, tt.want)
		}
	}
}

// TestClientTLS runs a client command against a TLS server: it connects
// with the server's CA, and fails without it.
func TestClientTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t, "test CA")
	cert, err := tls.X509KeyPair(ca.Issue(t, "server", x509.ExtKeyUsageServerAuth))
	if err != nil {
		t.Fatal(err)
	}
	certFile := writeFile(t, dir, "ca.pem", ca.PEM)
	addr := startClientTestServer(t, credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}}))

	out, stderr, err := runClientArgs(t, []string{"lookup", "7", "--addr", addr, "--tls-ca", certFile}, nil, "")
	if err != nil || !strings.Contains(out, "INVALID_API_KEY") {
		t.Errorf("lookup 7 --tls-ca over TLS = %q, %v (stderr %q); want the entry", out, err, stderr)
	}
	plain := startClientTestServer(t, nil)
	tests := []struct {
		args []string
		want string // In the error.
	}{
		{[]string{"--addr", addr}, "UNAVAILABLE: the server at " + addr + " closed the connection: if it speaks TLS, add --tls"},
		{[]string{"--addr", addr, "--tls"}, "UNAVAILABLE: the server at " + addr + " has a certificate the system's CAs do not know: give its CA with --tls-ca"},
		{[]string{"--addr", plain, "--tls-ca", certFile}, "UNAVAILABLE: the server at " + plain + " does not speak TLS: drop --tls"},
	}
	for _, tt := range tests {
		args := append([]string{"lookup", "7", "--timeout=5s"}, tt.args...)
		if _, _, err := runClientArgs(t, args, nil, ""); err == nil || isUsage(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run %q = %v; want an RPC error with %q", args, err, tt.want)
		}
	}
}
