package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Defaults of `tmdbstatus serve`, used when neither a flag nor the
// environment sets a value.
const (
	defaultGRPCAddr = ":9090"
	defaultHTTPAddr = ":8080"

	// defaultMaxMessageBytes is the largest gRPC message and REST body
	// accepted: grpc-go's own default, so that both transports refuse the
	// same requests.
	defaultMaxMessageBytes = 4 << 20

	// A REST body is at most 4 MiB and every RPC answers from memory:
	// seconds are plenty to read and write one.
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 15 * time.Second
	defaultWriteTimeout      = 15 * time.Second
	defaultIdleTimeout       = time.Minute
	defaultRequestTimeout    = 10 * time.Second

	// Clients may ping every 30 s, even between RPCs (grpc-go's default
	// refuses pings more often than every 5 minutes); the server pings a
	// connection idle for a minute and closes it if the ping is not
	// answered within 20 s, which frees connections whose peer is gone.
	defaultKeepaliveMinTime = 30 * time.Second
	defaultKeepaliveTime    = time.Minute
	defaultKeepaliveTimeout = 20 * time.Second

	// The servers drain within 10 s, well inside Kubernetes' default
	// termination grace period of 30 s.
	defaultShutdownGrace = 10 * time.Second
)

// envPrefix starts the name of the environment variable of every flag of
// `tmdbstatus serve`: --grpc-addr is TMDBSTATUS_GRPC_ADDR.
const envPrefix = "TMDBSTATUS_"

// config is what `tmdbstatus serve` runs with. Its zero value is not
// usable: parseServe fills every field.
type config struct {
	grpcAddr  string // Listen address of the gRPC server.
	httpAddr  string // Listen address of the REST/JSON gateway.
	adminAddr string // Listen address of /metrics and the health endpoints; "" serves them on httpAddr.

	logFormat string     // "text" or "json".
	logLevel  slog.Level // Debug logs one line per request.

	grpcMaxRecvBytes  int   // Largest gRPC message received.
	httpMaxBodyBytes  int64 // Largest REST request body.
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	requestTimeout    time.Duration // Deadline of every unary RPC and REST request.
	keepaliveMinTime  time.Duration // Shortest interval between a client's pings.
	keepaliveTime     time.Duration // Idle time after which the server pings a client.
	keepaliveTimeout  time.Duration // Time the server waits for its ping's answer.

	tlsCert     string // PEM certificate file; "" serves without TLS.
	tlsKey      string // PEM key file of tlsCert.
	tlsClientCA string // PEM CA file; "" accepts clients without a certificate.

	shutdownDelay time.Duration // Time between readiness going false and the servers stopping.
	shutdownGrace time.Duration // Time the requests in flight have to finish.
}

// defaultConfig returns the configuration of `tmdbstatus serve` without
// flags or environment.
func defaultConfig() config {
	return config{
		grpcAddr:          defaultGRPCAddr,
		httpAddr:          defaultHTTPAddr,
		logFormat:         "text",
		logLevel:          slog.LevelInfo,
		grpcMaxRecvBytes:  defaultMaxMessageBytes,
		httpMaxBodyBytes:  defaultMaxMessageBytes,
		readHeaderTimeout: defaultReadHeaderTimeout,
		readTimeout:       defaultReadTimeout,
		writeTimeout:      defaultWriteTimeout,
		idleTimeout:       defaultIdleTimeout,
		requestTimeout:    defaultRequestTimeout,
		keepaliveMinTime:  defaultKeepaliveMinTime,
		keepaliveTime:     defaultKeepaliveTime,
		keepaliveTimeout:  defaultKeepaliveTimeout,
		shutdownGrace:     defaultShutdownGrace,
	}
}

// envName returns the environment variable of the flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// serveFlags defines the flags of `tmdbstatus serve` on fs, writing into
// cfg, whose values are the defaults. Each usage names the flag's
// environment variable.
func serveFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.grpcAddr, "grpc-addr", cfg.grpcAddr, "listen `address` of the gRPC server")
	fs.StringVar(&cfg.httpAddr, "http-addr", cfg.httpAddr, "listen `address` of the REST/JSON gateway, /healthz, /readyz, /openapi.json and, without --admin-addr, /metrics")
	fs.StringVar(&cfg.adminAddr, "admin-addr", cfg.adminAddr, "listen `address` of /metrics, /healthz and /readyz on a port of their own; empty, /metrics is served on --http-addr")
	fs.StringVar(&cfg.logFormat, "log-format", cfg.logFormat, "log `format`: text or json")
	fs.TextVar(&cfg.logLevel, "log-level", cfg.logLevel, "log `level`: debug (one line per request), info, warn or error")
	fs.IntVar(&cfg.grpcMaxRecvBytes, "grpc-max-recv-bytes", cfg.grpcMaxRecvBytes, "largest gRPC message received, in `bytes`")
	fs.Int64Var(&cfg.httpMaxBodyBytes, "http-max-body-bytes", cfg.httpMaxBodyBytes, "largest REST request body, in `bytes`")
	fs.DurationVar(&cfg.readHeaderTimeout, "http-read-header-timeout", cfg.readHeaderTimeout, "time to read a REST request's headers")
	fs.DurationVar(&cfg.readTimeout, "http-read-timeout", cfg.readTimeout, "time to read a whole REST request")
	fs.DurationVar(&cfg.writeTimeout, "http-write-timeout", cfg.writeTimeout, "time to write a REST response, from the end of the request's headers")
	fs.DurationVar(&cfg.idleTimeout, "http-idle-timeout", cfg.idleTimeout, "time an idle keep-alive REST connection is kept")
	fs.DurationVar(&cfg.requestTimeout, "request-timeout", cfg.requestTimeout, "deadline of every unary RPC and REST request (a client's shorter deadline wins)")
	fs.DurationVar(&cfg.keepaliveMinTime, "grpc-keepalive-min-time", cfg.keepaliveMinTime, "shortest interval between a gRPC client's keepalive pings; a client pinging more often is disconnected")
	fs.DurationVar(&cfg.keepaliveTime, "grpc-keepalive-time", cfg.keepaliveTime, "idle time after which the server pings a gRPC client")
	fs.DurationVar(&cfg.keepaliveTimeout, "grpc-keepalive-timeout", cfg.keepaliveTimeout, "time a gRPC client has to answer the server's ping before it is disconnected")
	fs.StringVar(&cfg.tlsCert, "tls-cert", cfg.tlsCert, "PEM certificate `file` (chain) to serve TLS with on every port; needs --tls-key")
	fs.StringVar(&cfg.tlsKey, "tls-key", cfg.tlsKey, "PEM private key `file` of --tls-cert")
	fs.StringVar(&cfg.tlsClientCA, "tls-client-ca", cfg.tlsClientCA, "PEM CA certificates `file`: gRPC and REST clients must present a certificate it signed (mutual TLS); needs --tls-cert")
	fs.DurationVar(&cfg.shutdownDelay, "shutdown-delay", cfg.shutdownDelay, "on SIGTERM, time to keep serving while not ready, for load balancers to notice, before draining")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", cfg.shutdownGrace, "on SIGTERM, time the requests in flight have to finish before they are cut")
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + envName(f.Name) + ")" })
}

// parseServe parses the flags of `tmdbstatus serve`. A flag beats its
// environment variable, which beats the default; an empty variable counts
// as unset. A value that does not parse or is out of range is reported on
// stderr as one line naming its flag or variable.
func parseServe(args []string, getenv func(string) string, stdout, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("tmdbstatus serve", flag.ContinueOnError)
	cfg := defaultConfig()
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
		return config{}, err
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	default:
		err = applyEnv(fs, onCommandLine, getenv)
	}
	if err == nil {
		err = cfg.check(fs, onCommandLine, getenv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tmdbstatus serve: %v (see tmdbstatus serve --help)\n", err)
		return config{}, fmt.Errorf("%w: %w", errUsage, err)
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
func (c *config) check(fs *flag.FlagSet, onCommandLine map[string]bool, getenv func(string) string) error {
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
	if c.logFormat != "text" && c.logFormat != "json" {
		return bad("log-format", "want text or json")
	}
	if c.grpcMaxRecvBytes <= 0 {
		return bad("grpc-max-recv-bytes", "must be positive")
	}
	if c.httpMaxBodyBytes <= 0 {
		return bad("http-max-body-bytes", "must be positive")
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"http-read-header-timeout", c.readHeaderTimeout},
		{"http-read-timeout", c.readTimeout},
		{"http-write-timeout", c.writeTimeout},
		{"http-idle-timeout", c.idleTimeout},
		{"request-timeout", c.requestTimeout},
		{"grpc-keepalive-min-time", c.keepaliveMinTime},
		{"grpc-keepalive-time", c.keepaliveTime},
		{"grpc-keepalive-timeout", c.keepaliveTimeout},
		{"shutdown-grace", c.shutdownGrace},
	} {
		if f.d <= 0 {
			return bad(f.name, "must be positive")
		}
	}
	if c.shutdownDelay < 0 {
		return bad("shutdown-delay", "must not be negative")
	}
	switch {
	case c.tlsCert != "" && c.tlsKey == "":
		return errors.New("--tls-cert needs --tls-key")
	case c.tlsKey != "" && c.tlsCert == "":
		return errors.New("--tls-key needs --tls-cert")
	case c.tlsClientCA != "" && c.tlsCert == "":
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
