package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// envPrefix starts the name of the environment variable of every flag of
// `tmdbstatus serve`: --grpc-addr is TMDBSTATUS_GRPC_ADDR.
const envPrefix = "TMDBSTATUS_"

// envName returns the environment variable of the flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// serveFlags defines the flags of `tmdbstatus serve` on fs, writing into
// cfg, whose values are the defaults. Each usage names the flag's
// environment variable.
func serveFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "listen `address` of the gRPC server")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "listen `address` of the REST/JSON gateway, /healthz, /readyz, /openapi.json and, without --admin-addr, /metrics")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", cfg.AdminAddr, "listen `address` of /metrics, /healthz and /readyz on a port of their own; empty, /metrics is served on --http-addr")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log `format`: text or json")
	fs.TextVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log `level`: debug (one line per request), info, warn or error")
	fs.IntVar(&cfg.GRPCMaxRecvBytes, "grpc-max-recv-bytes", cfg.GRPCMaxRecvBytes, "largest gRPC message received, in `bytes`")
	fs.Int64Var(&cfg.HTTPMaxBodyBytes, "http-max-body-bytes", cfg.HTTPMaxBodyBytes, "largest REST request body, in `bytes`")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "time a gRPC call has from the moment its stream opens, its request included; streaming calls (health's Watch, reflection) have none")
	fs.Var((*uint32Value)(&cfg.MaxConcurrentStreams), "grpc-max-concurrent-streams", "`number` of streams a gRPC connection may have open at once")
	fs.Var((*uint32Value)(&cfg.MaxHeaderListBytes), "grpc-max-header-list-bytes", "largest header list (metadata) of a gRPC request, in `bytes`")
	fs.DurationVar(&cfg.ConnectionTimeout, "grpc-connection-timeout", cfg.ConnectionTimeout, "time a new gRPC connection has for its TLS handshake and HTTP/2 preface")
	fs.DurationVar(&cfg.MaxConnectionIdle, "grpc-max-connection-idle", cfg.MaxConnectionIdle, "time without a call after which a gRPC connection is sent a GOAWAY and closed")
	fs.BoolVar(&cfg.Reflection, "reflection", cfg.Reflection, "serve gRPC server reflection, which grpcurl uses to call the server without its protos")
	fs.IntVar(&cfg.MaxConnections, "max-connections", cfg.MaxConnections, "cap on the open connections of the gRPC port and of the HTTP port, each; 0 derives it from the open-file limit, leaving room for the admin port, at most 1024")
	fs.IntVar(&cfg.AdminMaxConnections, "admin-max-connections", cfg.AdminMaxConnections, "cap on the open connections of --admin-addr, reserved for probes and scrapers")
	fs.IntVar(&cfg.HTTPMaxHeaderBytes, "http-max-header-bytes", cfg.HTTPMaxHeaderBytes, "largest header block of a REST request, in `bytes`")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "http-read-header-timeout", cfg.ReadHeaderTimeout, "time to read a REST request's headers")
	fs.DurationVar(&cfg.ReadTimeout, "http-read-timeout", cfg.ReadTimeout, "time to read a whole REST request")
	fs.DurationVar(&cfg.WriteTimeout, "http-write-timeout", cfg.WriteTimeout, "time to write a REST response, from the end of the request's headers; longer than --http-read-timeout")
	fs.DurationVar(&cfg.IdleTimeout, "http-idle-timeout", cfg.IdleTimeout, "time an idle keep-alive REST connection is kept")
	fs.DurationVar(&cfg.KeepaliveMinTime, "grpc-keepalive-min-time", cfg.KeepaliveMinTime, "shortest interval between a gRPC client's keepalive pings; a client pinging more often is disconnected")
	fs.DurationVar(&cfg.KeepaliveTime, "grpc-keepalive-time", cfg.KeepaliveTime, "idle time after which the server pings a gRPC client")
	fs.DurationVar(&cfg.KeepaliveTimeout, "grpc-keepalive-timeout", cfg.KeepaliveTimeout, "time a gRPC client has to answer the server's ping before it is disconnected")
	fs.DurationVar(&cfg.MaxConnectionAge, "grpc-max-connection-age", cfg.MaxConnectionAge, "age (plus or minus 10%) at which a gRPC connection is sent a GOAWAY, so that clients reconnect and new replicas get their share")
	fs.DurationVar(&cfg.MaxConnectionAgeGrace, "grpc-max-connection-age-grace", cfg.MaxConnectionAgeGrace, "time the RPCs in flight on a connection past --grpc-max-connection-age have to finish before it is closed")
	fs.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert, "PEM certificate `file` (chain) to serve TLS with on every port; needs --tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey, "PEM private key `file` of --tls-cert")
	fs.StringVar(&cfg.TLSClientCA, "tls-client-ca", cfg.TLSClientCA, "PEM CA certificates `file`: gRPC and REST clients must present a certificate it signed (mutual TLS); needs --tls-cert")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", cfg.ShutdownDelay, "on SIGTERM, time to keep serving while not ready, for load balancers to notice, before draining")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "on SIGTERM, time the requests in flight have to finish before they are cut")
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + envName(f.Name) + ")" })
}

// parseServe parses the flags of `tmdbstatus serve`. A flag beats its
// environment variable, which beats the default; an empty variable counts
// as unset. A value that does not parse or is out of range is reported on
// stderr as one line naming its flag or variable.
func parseServe(args []string, getenv func(string) string, stdout, stderr io.Writer) (server.Config, error) {
	fs := flag.NewFlagSet("tmdbstatus serve", flag.ContinueOnError)
	cfg := server.DefaultConfig()
	serveFlags(fs, &cfg)
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, "Usage: tmdbstatus serve [flags]\n\n"+
			"Serve StatusService over gRPC, with health and reflection, and over REST/JSON,\n"+
			"with Prometheus metrics, health endpoints and OpenTelemetry tracing (exported\n"+
			"when OTEL_EXPORTER_OTLP_ENDPOINT is set). SIGINT or SIGTERM stops both servers\n"+
			"gracefully. Every flag can be set by its environment variable instead.\n\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	// The flag package would print its error and the usage to one writer;
	// print them here instead, the usage to stdout when it is asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	err := fs.Parse(args)
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return server.Config{}, err
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	default:
		err = applyEnv(fs, onCommandLine, getenv)
	}
	if err == nil {
		err = checkServe(&cfg, fs, onCommandLine, getenv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tmdbstatus serve: %v (see tmdbstatus serve --help)\n", err)
		return server.Config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	return cfg, nil
}

// applyEnv sets every flag of fs that is not onCommandLine from its
// environment variable, if that is not empty.
func applyEnv(fs *flag.FlagSet, onCommandLine map[string]bool, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if err != nil || onCommandLine[f.Name] || v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("invalid value %q for %s: %w", v, envName(f.Name), e)
		}
	})
	return err
}

// check returns an error naming the first flag of c whose value is out of
// range, or that needs another flag: its value came from the command line
// if onCommandLine holds its name, else from its variable in getenv.
func checkServe(c *server.Config, fs *flag.FlagSet, onCommandLine map[string]bool, getenv func(string) string) error {
	source := func(name string) string {
		if !onCommandLine[name] && getenv(envName(name)) != "" {
			return envName(name)
		}
		return "flag -" + name
	}
	bad := func(name, why string) error {
		return fmt.Errorf("invalid value %q for %s: %s", fs.Lookup(name).Value.String(), source(name), why)
	}
	for _, name := range []string{"grpc-addr", "http-addr"} {
		if fs.Lookup(name).Value.String() == "" {
			return bad(name, "empty address")
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log-format", "want text or json")
	}
	if c.GRPCMaxRecvBytes <= 0 {
		return bad("grpc-max-recv-bytes", "must be positive")
	}
	if c.HTTPMaxBodyBytes <= 0 {
		return bad("http-max-body-bytes", "must be positive")
	}
	for _, f := range []struct {
		name string
		n    int64
		min  int64
	}{
		{"grpc-max-concurrent-streams", int64(c.MaxConcurrentStreams), 1},
		{"grpc-max-header-list-bytes", int64(c.MaxHeaderListBytes), 1 << 10},
		{"http-max-header-bytes", int64(c.HTTPMaxHeaderBytes), 1 << 10},
		{"max-connections", int64(c.MaxConnections), 0},
		{"admin-max-connections", int64(c.AdminMaxConnections), 1},
	} {
		if f.n < f.min {
			return bad(f.name, fmt.Sprintf("must be at least %d", f.min))
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"http-read-header-timeout", c.ReadHeaderTimeout},
		{"http-read-timeout", c.ReadTimeout},
		{"http-write-timeout", c.WriteTimeout},
		{"http-idle-timeout", c.IdleTimeout},
		{"request-timeout", c.RequestTimeout},
		{"grpc-connection-timeout", c.ConnectionTimeout},
		{"grpc-max-connection-idle", c.MaxConnectionIdle},
		{"grpc-keepalive-min-time", c.KeepaliveMinTime},
		{"grpc-keepalive-time", c.KeepaliveTime},
		{"grpc-keepalive-timeout", c.KeepaliveTimeout},
		{"grpc-max-connection-age", c.MaxConnectionAge},
		{"grpc-max-connection-age-grace", c.MaxConnectionAgeGrace},
		{"shutdown-grace", c.ShutdownGrace},
	} {
		if f.d <= 0 {
			return bad(f.name, "must be positive")
		}
	}
	if c.WriteTimeout <= c.ReadTimeout {
		// A request that takes the whole read timeout must still get its
		// answer before the write deadline.
		return bad("http-write-timeout", "must be longer than --http-read-timeout ("+c.ReadTimeout.String()+")")
	}
	if c.ShutdownDelay < 0 {
		return bad("shutdown-delay", "must not be negative")
	}
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		return errors.New("--tls-cert needs --tls-key")
	case c.TLSKey != "" && c.TLSCert == "":
		return errors.New("--tls-key needs --tls-cert")
	case c.TLSClientCA != "" && c.TLSCert == "":
		return errors.New("--tls-client-ca needs --tls-cert")
	}
	return nil
}

// envOr returns the value of the environment variable key, or def if it is
// unset or empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// uint32Value is a flag.Value of a uint32 setting.
type uint32Value uint32

func (v *uint32Value) String() string { return strconv.FormatUint(uint64(*v), 10) }

func (v *uint32Value) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return errors.New("want a whole number from 0 to 4294967295")
	}
	*v = uint32Value(n)
	return nil
}
