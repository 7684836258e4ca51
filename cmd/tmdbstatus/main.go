// Command tmdbstatus serves tmdbstatus.v1.StatusService, which translates
// TMDB API failures into canonical gRPC statuses, over gRPC and over its
// REST/JSON gateway.
//
// Usage:
//
//	tmdbstatus serve [--grpc-addr=:9090] [--http-addr=:8080]
//
// The addresses can also be set with the environment variables
// TMDBSTATUS_GRPC_ADDR and TMDBSTATUS_HTTP_ADDR; a flag wins over the
// environment. The gRPC server also serves grpc.health.v1.Health and server
// reflection. SIGINT or SIGTERM stops both servers gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		// Exit 0.
	case errors.Is(err, errUsage):
		os.Exit(2) // run has printed the error and the usage.
	default:
		fmt.Fprintf(os.Stderr, "tmdbstatus: %v\n", err)
		os.Exit(1)
	}
}

// run runs the command line args (without the program name) until ctx is
// done. It writes the usage to stdout when asked for it (returning
// flag.ErrHelp), a usage error and the usage to stderr (returning an error
// wrapping errUsage), and its log to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseArgs(args, os.Getenv, stdout, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	var lc net.ListenConfig
	grpcLis, err := lc.Listen(ctx, "tcp", cfg.grpcAddr)
	if err != nil {
		return fmt.Errorf("gRPC server: %w", err)
	}
	httpLis, err := lc.Listen(ctx, "tcp", cfg.httpAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("HTTP server: %w", err)
	}
	return serve(ctx, logger, grpcLis, httpLis)
}

// Listen addresses used when neither a flag nor the environment sets one.
const (
	defaultGRPCAddr = ":9090"
	defaultHTTPAddr = ":8080"
)

// config is what `tmdbstatus serve` runs with.
type config struct {
	grpcAddr string // Listen address of the gRPC server.
	httpAddr string // Listen address of the REST/JSON gateway.
}

// errUsage is wrapped by the errors of a command line that cannot be run.
var errUsage = errors.New("usage error")

const usage = `Usage: tmdbstatus <command> [flags]

Commands:
  serve    serve StatusService over gRPC and REST/JSON

Run 'tmdbstatus <command> --help' for the flags of a command.
`

// parseArgs parses the command line args (without the program name),
// reading the environment through getenv. It reports what it refuses on
// stderr, followed by the usage, and returns an error wrapping errUsage;
// when asked for help, it writes the usage to stdout and returns
// flag.ErrHelp.
func parseArgs(args []string, getenv func(string) string, stdout, stderr io.Writer) (config, error) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return config{}, fmt.Errorf("%w: no command", errUsage)
	}
	switch cmd := args[0]; cmd {
	case "serve":
		return parseServe(args[1:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return config{}, flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "tmdbstatus: unknown command %q\n", cmd)
		fmt.Fprint(stderr, usage)
		return config{}, fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// parseServe parses the flags of `tmdbstatus serve`. A flag beats its
// environment variable, which beats the default.
func parseServe(args []string, getenv func(string) string, stdout, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("tmdbstatus serve", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.grpcAddr, "grpc-addr", envOr(getenv, "TMDBSTATUS_GRPC_ADDR", defaultGRPCAddr),
		"listen `address` of the gRPC server (env TMDBSTATUS_GRPC_ADDR)")
	fs.StringVar(&cfg.httpAddr, "http-addr", envOr(getenv, "TMDBSTATUS_HTTP_ADDR", defaultHTTPAddr),
		"listen `address` of the REST/JSON gateway (env TMDBSTATUS_HTTP_ADDR)")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, "Usage: tmdbstatus serve [flags]\n\n"+
			"Serve StatusService over gRPC, with health and reflection, and over REST/JSON.\n"+
			"SIGINT or SIGTERM stops both servers gracefully.\n\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	// The flag package would print its error and the usage to one writer;
	// print them here instead, the usage to stdout when it is asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return config{}, err
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.grpcAddr == "":
		err = errors.New("empty --grpc-addr")
	case cfg.httpAddr == "":
		err = errors.New("empty --http-addr")
	default:
		return cfg, nil
	}
	fmt.Fprintf(stderr, "tmdbstatus serve: %v\n", err)
	printUsage(stderr)
	return config{}, fmt.Errorf("%w: %w", errUsage, err)
}

// envOr returns the value of the environment variable key, or def if it is
// unset or empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
