package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// TestServeFlagsEnv checks that every flag of `tmdbstatus serve` has its
// environment variable, listed by --help, which the flag beats.
func TestServeFlagsEnv(t *testing.T) {
	// A valid value for each flag other than its default.
	values := map[string]string{
		"grpc-addr":                     "127.0.0.1:1",
		"http-addr":                     "127.0.0.1:2",
		"admin-addr":                    "127.0.0.1:3",
		"log-format":                    "json",
		"log-level":                     "debug",
		"grpc-max-recv-bytes":           "1024",
		"http-max-body-bytes":           "2048",
		"http-read-header-timeout":      "1s",
		"http-read-timeout":             "2s",
		"http-write-timeout":            "3s",
		"http-idle-timeout":             "4s",
		"grpc-keepalive-min-time":       "6s",
		"grpc-keepalive-time":           "7s",
		"grpc-keepalive-timeout":        "8s",
		"grpc-max-connection-age":       "12m",
		"grpc-max-connection-age-grace": "13s",
		"tls-cert":                      "cert.pem",
		"tls-key":                       "key.pem",
		"tls-client-ca":                 "ca.pem",
		"shutdown-delay":                "9s",
		"shutdown-grace":                "11s",
		"request-timeout":               "14s",
		"grpc-max-concurrent-streams":   "15",
		"grpc-max-header-list-bytes":    "16384",
		"grpc-connection-timeout":       "17s",
		"grpc-max-connection-idle":      "18s",
		"reflection":                    "false",
		"max-connections":               "19",
		"admin-max-connections":         "20",
		"http-max-header-bytes":         "21000",
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

	var help bytes.Buffer
	if _, err := parseArgs([]string{"serve", "--help"}, func(string) string { return "" }, &help, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseArgs(serve --help) error = %v; want flag.ErrHelp", err)
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	serveFlags(fs, new(server.Config))
	env := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := values[f.Name]
		if !ok {
			t.Errorf("flag -%s has no test value", f.Name)
		}
		env[envName(f.Name)] = v
		// A boolean flag's line ends at its name.
		if !strings.Contains(help.String(), "-"+f.Name+" ") && !strings.Contains(help.String(), "-"+f.Name+"\n") || !strings.Contains(help.String(), "(env "+envName(f.Name)+")") {
			t.Errorf("serve --help lacks -%s or %s:\n%s", f.Name, envName(f.Name), help.String())
		}
	})

	got, err := parseArgs([]string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err != nil || got != want {
		t.Errorf("parseArgs(serve) with every variable set = %+v, %v; want %+v, nil", got, err, want)
	}

	// A flag beats its variable.
	got, err = parseArgs([]string{"serve", "--shutdown-grace=1m", "--log-level=error"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	want.ShutdownGrace, want.LogLevel = time.Minute, slog.LevelError
	if err != nil || got != want {
		t.Errorf("parseArgs(serve --shutdown-grace=1m --log-level=error) = %+v, %v; want %+v, nil", got, err, want)
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
		{[]string{"--http-read-timeout=soon"}, nil, `invalid value "soon" for flag -http-read-timeout: parse error`},
		{[]string{"--grpc-max-recv-bytes=4MiB"}, nil, `invalid value "4MiB" for flag -grpc-max-recv-bytes: parse error`},
		{[]string{"--log-level=loud"}, nil, `invalid value "loud" for flag -log-level: slog: level string "loud": unknown name`},
		{[]string{"--log-format=xml"}, nil, `invalid value "xml" for flag -log-format: want text or json`},
		{[]string{"--http-max-body-bytes=-1"}, nil, `invalid value "-1" for flag -http-max-body-bytes: must be positive`},
		{[]string{"--shutdown-delay=-1s"}, nil, `invalid value "-1s" for flag -shutdown-delay: must not be negative`},
		{nil, map[string]string{"TMDBSTATUS_SHUTDOWN_GRACE": "ten"}, `invalid value "ten" for TMDBSTATUS_SHUTDOWN_GRACE: parse error`},
		{nil, map[string]string{"TMDBSTATUS_GRPC_KEEPALIVE_TIME": "-5s"}, `invalid value "-5s" for TMDBSTATUS_GRPC_KEEPALIVE_TIME: must be positive`},
		{nil, map[string]string{"TMDBSTATUS_LOG_FORMAT": "yaml"}, `invalid value "yaml" for TMDBSTATUS_LOG_FORMAT: want text or json`},
		// The command line wins: the variable's bad value is not read.
		{[]string{"--log-format=xml"}, map[string]string{"TMDBSTATUS_LOG_FORMAT": "json"}, `invalid value "xml" for flag -log-format: want text or json`},
		{[]string{"--grpc-max-concurrent-streams=0"}, nil, `invalid value "0" for flag -grpc-max-concurrent-streams: must be at least 1`},
		{[]string{"--grpc-max-concurrent-streams=-1"}, nil, `invalid value "-1" for flag -grpc-max-concurrent-streams: want a whole number from 0 to 4294967295`},
		{[]string{"--grpc-max-header-list-bytes=100"}, nil, `invalid value "100" for flag -grpc-max-header-list-bytes: must be at least 1024`},
		{[]string{"--max-connections=-1"}, nil, `invalid value "-1" for flag -max-connections: must be at least 0`},
		{[]string{"--request-timeout=0s"}, nil, `invalid value "0s" for flag -request-timeout: must be positive`},
		{[]string{"--http-write-timeout=15s"}, nil, `invalid value "15s" for flag -http-write-timeout: must be longer than --http-read-timeout (15s)`},
		{[]string{"--tls-cert=c.pem"}, nil, `--tls-cert needs --tls-key`},
		{[]string{"--tls-key=k.pem"}, nil, `--tls-key needs --tls-cert`},
		{[]string{"--tls-client-ca=ca.pem"}, nil, `--tls-client-ca needs --tls-cert`},
	}
	for _, tt := range tests {
		args := append([]string{"serve"}, tt.args...)
		var stdout, stderr bytes.Buffer
		_, err := parseArgs(args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
		if !errors.Is(err, errUsage) {
			t.Errorf("parseArgs(%q) with %v error = %v; want %v", args, tt.env, err, errUsage)
		}
		if want := "tmdbstatus serve: " + tt.want + " (see tmdbstatus serve --help)\n"; stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("parseArgs(%q) with %v wrote stdout %q, stderr %q; want stderr %q", args, tt.env, stdout.String(), stderr.String(), want)
		}
	}
}
