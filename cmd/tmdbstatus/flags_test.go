package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/google/go-cmp/cmp"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// parseServe parses the serve command line args with the environment env,
// and returns its configuration and what it wrote.
func parseServe(t *testing.T, args []string, env map[string]string) (cfg server.Config, stdout, stderr string, err error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	kctx, err := parse(append([]string{"serve"}, args...), &out, &errOut)
	if err == nil {
		cfg = kctx.Model.Target.Addr().Interface().(*cli).Serve.Config
	}
	return cfg, out.String(), errOut.String(), err
}

// serveFlags returns the flags of serve, but --help and --version.
func serveFlags(t *testing.T) []*kong.Flag {
	t.Helper()
	k, err := newKong(io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range k.Model.Children {
		if n.Name == "serve" {
			return n.Flags
		}
	}
	t.Fatal("no serve command")
	return nil
}

// TestServeDefaults checks that serve without flags or environment runs
// with server.DefaultConfig.
func TestServeDefaults(t *testing.T) {
	got, _, _, err := parseServe(t, nil, nil)
	if diff := cmp.Diff(server.DefaultConfig(), got); err != nil || diff != "" {
		t.Errorf("parseServe(t, nil) = %v, config diff (-want +got):\n%s", err, diff)
	}
}

// TestServeFlagsEnv checks that every flag of serve has its environment
// variable, listed by --help, which the flag beats.
func TestServeFlagsEnv(t *testing.T) {
	// A valid value for each flag other than its default.
	values := map[string]string{
		"grpc-addr": "127.0.0.1:1", "http-addr": "127.0.0.1:2", "admin-addr": "127.0.0.1:3",
		"log-format": "json", "log-level": "debug",
		"grpc-max-recv-bytes": "1024", "http-max-body-bytes": "2048",
		"http-read-header-timeout": "1s", "http-read-timeout": "2s", "http-write-timeout": "3s", "http-idle-timeout": "4s",
		"grpc-keepalive-min-time": "6s", "grpc-keepalive-time": "7s", "grpc-keepalive-timeout": "8s",
		"grpc-max-connection-age": "12m", "grpc-max-connection-age-grace": "13s",
		"tls-cert": "cert.pem", "tls-key": "key.pem", "tls-client-ca": "ca.pem",
		"shutdown-delay": "9s", "shutdown-grace": "11s", "request-timeout": "14s",
		"grpc-max-concurrent-streams": "15", "grpc-max-header-list-bytes": "16384",
		"grpc-connection-timeout": "17s", "grpc-max-connection-idle": "18s", "reflection": "false",
		"max-connections": "19", "admin-max-connections": "20", "http-max-header-bytes": "21000",
	}
	want := server.Config{
		GRPCAddr: "127.0.0.1:1", HTTPAddr: "127.0.0.1:2", AdminAddr: "127.0.0.1:3",
		LogFormat: "json", LogLevel: slog.LevelDebug,
		GRPCMaxRecvBytes: 1024, HTTPMaxBodyBytes: 2048,
		RequestTimeout: 14 * time.Second, MaxConcurrentStreams: 15, MaxHeaderListBytes: 16384,
		ConnectionTimeout: 17 * time.Second, MaxConnectionIdle: 18 * time.Second, Reflection: false,
		MaxConnections: 19, AdminMaxConnections: 20, HTTPMaxHeaderBytes: 21000,
		ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second,
		KeepaliveMinTime: 6 * time.Second, KeepaliveTime: 7 * time.Second, KeepaliveTimeout: 8 * time.Second,
		MaxConnectionAge: 12 * time.Minute, MaxConnectionAgeGrace: 13 * time.Second,
		TLSCert: "cert.pem", TLSKey: "key.pem", TLSClientCA: "ca.pem",
		ShutdownDelay: 9 * time.Second, ShutdownGrace: 11 * time.Second,
	}

	_, help, _, err := parseServe(t, []string{"--help"}, nil)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseServe(t, --help) error = %v; want flag.ErrHelp", err)
	}
	env := map[string]string{}
	for _, f := range serveFlags(t) {
		if len(f.Envs) == 0 {
			continue
		}
		v, ok := values[f.Name]
		if !ok {
			t.Errorf("flag --%s has no test value", f.Name)
		}
		env[f.Envs[0]] = v
		if !regexp.MustCompile(`--(\[no-\])?`+f.Name+`\b`).MatchString(help) || !strings.Contains(help, "$"+f.Envs[0]) {
			t.Errorf("serve --help lacks --%s or $%s:\n%s", f.Name, f.Envs[0], help)
		}
	}

	got, _, _, err := parseServe(t, nil, env)
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Errorf("parseServe(t, nil) with every variable set = %v, config diff (-want +got):\n%s", err, diff)
	}
	// A flag beats its variable.
	got, _, _, err = parseServe(t, []string{"--shutdown-grace=1m", "--log-level=error"}, env)
	want.ShutdownGrace, want.LogLevel = time.Minute, slog.LevelError
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Errorf("parseServe(t, --shutdown-grace=1m --log-level=error) = %v, config diff (-want +got):\n%s", err, diff)
	}
}

// TestServeEnvEmptyIsUnset checks that an empty variable counts as unset.
func TestServeEnvEmptyIsUnset(t *testing.T) {
	got, _, _, err := parseServe(t, nil, map[string]string{"TMDBSTATUS_GRPC_ADDR": "", "TMDBSTATUS_SHUTDOWN_GRACE": ""})
	if err != nil || got != server.DefaultConfig() {
		t.Errorf("parseServe(t, nil) with empty variables = %+v, %v; want the defaults", got, err)
	}
}

// TestParseServeBadValue checks that a bad value is refused with one line
// naming its flag or variable.
func TestParseServeBadValue(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string // The line on stderr, before " (see tmdbstatus serve --help)".
	}{
		{[]string{"--http-read-timeout=soon"}, nil, `--http-read-timeout: "soon" is not a duration such as 500ms, 5s or 1m`},
		{[]string{"--grpc-max-recv-bytes=4MiB"}, nil, `--grpc-max-recv-bytes: expected a valid 64 bit int but got "4MiB"`},
		{[]string{"--log-level=loud"}, nil, `--log-level: slog: level string "loud": unknown name`},
		{[]string{"--log-format=xml"}, nil, `--log-format "xml": want text or json`},
		{[]string{"--http-max-body-bytes=0"}, nil, `--http-max-body-bytes "0": must be at least 1`},
		{[]string{"--shutdown-delay=-1s"}, nil, `--shutdown-delay "-1s": must not be negative`},
		{[]string{"--grpc-addr"}, nil, `--grpc-addr: needs a value`},
		{[]string{"--http-addr="}, nil, `--http-addr "": must not be empty`},
		{[]string{"--port=1"}, nil, `unknown flag --port`},
		{[]string{"now"}, nil, `unexpected argument now`},
		{nil, map[string]string{"TMDBSTATUS_SHUTDOWN_GRACE": "ten"}, `--shutdown-grace: "ten" is not a duration such as 500ms, 5s or 1m (from envar TMDBSTATUS_SHUTDOWN_GRACE="ten")`},
		{nil, map[string]string{"TMDBSTATUS_GRPC_KEEPALIVE_TIME": "-5s"}, `TMDBSTATUS_GRPC_KEEPALIVE_TIME "-5s": must be positive`},
		// The command line wins: the variable's bad value is not read.
		{[]string{"--log-format=xml"}, map[string]string{"TMDBSTATUS_LOG_FORMAT": "json"}, `--log-format "xml": want text or json`},
		{[]string{"--grpc-max-concurrent-streams=0"}, nil, `--grpc-max-concurrent-streams "0": must be at least 1`},
		{[]string{"--grpc-max-header-list-bytes=100"}, nil, `--grpc-max-header-list-bytes "100": must be at least 1024`},
		{[]string{"--max-connections=-1"}, nil, `--max-connections "-1": must be at least 0`},
		{[]string{"--max-connections", "-1"}, nil, `--max-connections: expected int value but got "-1" (short flag); perhaps try --max-connections="-1"?`},
		{[]string{"--request-timeout=0s"}, nil, `--request-timeout "0s": must be positive`},
		{[]string{"--http-write-timeout=15s"}, nil, `--http-write-timeout 15s: must be longer than --http-read-timeout (15s)`},
		{[]string{"--tls-cert=c.pem"}, nil, `--tls-cert and --tls-key must be used together`},
		{[]string{"--tls-key=k.pem"}, nil, `--tls-cert and --tls-key must be used together`},
		{[]string{"--tls-client-ca=ca.pem"}, nil, `--tls-client-ca needs --tls-cert`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, stdout, stderr, err := parseServe(t, tt.args, tt.env)
			if !isUsage(err) {
				t.Errorf("parseServe(%q) with %v error = %v; want a usage error", tt.args, tt.env, err)
			}
			if want := "tmdbstatus serve: " + tt.want + " (see tmdbstatus serve --help)\n"; stderr != want || stdout != "" {
				t.Errorf("parseServe(%q) with %v wrote stdout %q, stderr %q; want stderr %q", tt.args, tt.env, stdout, stderr, want)
			}
		})
	}
}

// TestNegativesLast checks that a negative number is moved past a "--".
func TestNegativesLast(t *testing.T) {
	tests := []struct {
		args, want []string
	}{
		{[]string{"lookup", "7"}, []string{"lookup", "7"}},
		{[]string{"lookup", "-1"}, []string{"lookup", "--", "-1"}},
		{[]string{"lookup", "-1", "--offline"}, []string{"lookup", "--offline", "--", "-1"}},
		{[]string{"lookup", "-1", "--", "2"}, []string{"lookup", "--", "-1", "2"}},
		{[]string{"lookup", "--", "-1"}, []string{"lookup", "--", "-1"}},
		{[]string{"lookup", "-h"}, []string{"lookup", "-h"}},
		{[]string{"translate", "--http-status", "-1"}, []string{"translate", "--http-status", "-1"}},
		{[]string{"translate", "--json", "-1"}, []string{"translate", "--json", "--", "-1"}},
	}
	k, err := newKong(io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if got := negativesLast(tt.args, k.Model); !cmp.Equal(got, tt.want) {
			t.Errorf("negativesLast(%q) = %q; want %q", tt.args, got, tt.want)
		}
	}
}

// TestFormatValue checks how defaults are written: as a person writes them.
func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{time.Minute, "1m"},
		{5 * time.Minute, "5m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{10 * time.Second, "10s"},
		{time.Duration(0), "0s"},
		{slog.LevelInfo, "info"},
		{":9090", ":9090"},
		{true, "true"},
	}
	for _, tt := range tests {
		if got := formatValue(reflect.ValueOf(tt.v)); got != tt.want {
			t.Errorf("formatValue(%v) = %q; want %q", tt.v, got, tt.want)
		}
	}
}

// TestVersion checks that --version prints the build's version and is no
// error.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"serve", "--version"}} {
		var out bytes.Buffer
		_, err := parse(args, &out, io.Discard)
		bi, _ := debug.ReadBuildInfo()
		if want := "tmdbstatus " + bi.Main.Version + "\n"; !errors.Is(err, flag.ErrHelp) || out.String() != want {
			t.Errorf("parse(%q) = %v, printed %q; want flag.ErrHelp, %q", args, err, out.String(), want)
		}
	}
}

// TestDocsFlagTable checks that docs/operating.md's table lists every flag
// of serve, with its variable and its default, and no other.
func TestDocsFlagTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/operating.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)` \\| `([A-Z0-9_]+)` \\| ([^|]+) \\|")
	rows := map[string][2]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		rows[m[1]] = [2]string{m[2], strings.TrimSpace(m[3])}
	}
	for _, f := range serveFlags(t) {
		if len(f.Envs) == 0 {
			continue
		}
		def := "none"
		if f.HasDefault && f.Default != "" {
			def = "`" + f.Default + "`"
		}
		if got, want := rows[f.Name], [2]string{f.Envs[0], def}; got != want {
			t.Errorf("docs/operating.md row of --%s: variable and default %q; want %q", f.Name, got, want)
		}
		delete(rows, f.Name)
	}
	for name := range rows {
		t.Errorf("docs/operating.md has a row for --%s, which serve does not have", name)
	}
}

// TestServeReflectionOff checks both ways to turn reflection off, the
// Deployment's --reflection=false included.
func TestServeReflectionOff(t *testing.T) {
	for _, args := range [][]string{{"--reflection=false"}, {"--no-reflection"}} {
		got, _, _, err := parseServe(t, args, nil)
		if err != nil || got.Reflection {
			t.Errorf("parseServe(t, %q) = Reflection %v, %v; want false, nil", args, got.Reflection, err)
		}
	}
}
