// Command tmdbstatus serves tmdbstatus.v1.StatusService, which translates
// TMDB API failures into canonical gRPC statuses, over gRPC and over its
// REST/JSON gateway.
//
// Usage:
//
//	tmdbstatus serve [--grpc-addr=:9090] [--http-addr=:8080] [flags]
//
// Every flag can also be set with its environment variable: --grpc-addr
// with TMDBSTATUS_GRPC_ADDR, --http-addr with TMDBSTATUS_HTTP_ADDR, and so
// on; a flag wins over the environment. `tmdbstatus serve --help` lists
// them all. The gRPC server also serves grpc.health.v1.Health and server
// reflection; the HTTP server /healthz, /readyz, /openapi.json and
// Prometheus' /metrics. SIGINT or SIGTERM stops both servers gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

func main() {
	shutdown, now, stop := shutdownSignals()
	err := run(shutdown, now.Done(), os.Args[1:], os.Stdout, os.Stderr)
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

// shutdownSignals returns a context done at the first SIGINT or SIGTERM,
// which starts the shutdown, and one done at the second, which cuts short
// the shutdown delay, or the drain if the delay is over (see server.Run);
// any further signal has its default effect and ends the process at once.
// stop releases the signals.
func shutdownSignals() (shutdown, now context.Context, stop context.CancelFunc) {
	base, stop := context.WithCancel(context.Background())
	shutdown, startShutdown := context.WithCancelCause(base)
	now, cutShort := context.WithCancel(base)
	// Room for both, so that neither is lost however fast they come.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(signals)
		for _, react := range []func(os.Signal){
			func(sig os.Signal) { startShutdown(fmt.Errorf("%v signal received", sig)) },
			func(os.Signal) { cutShort() },
		} {
			select {
			case sig := <-signals:
				react(sig)
			case <-base.Done():
				return
			}
		}
	}()
	return shutdown, now, stop
}

// run runs the command line args (without the program name) until ctx is
// done; now, once closed, cuts the shutdown short (see server.Run). It writes the usage to stdout when asked for it (returning
// flag.ErrHelp), a usage error to stderr (returning an error wrapping
// errUsage): one line for a bad flag or value of serve, followed by the
// usage for a bad command; and its log to stderr.
func run(ctx context.Context, now <-chan struct{}, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isClientCommand(args[0]) { // lookup, list, translate: cli.go
		return runClient(ctx, args, os.Getenv, os.Stdin, stdout, stderr)
	}
	cfg, err := parseArgs(args, os.Getenv, stdout, stderr)
	if err != nil {
		return err
	}
	return runServe(ctx, now, cfg, os.Getenv, stderr)
}

// errUsage is wrapped by the errors of a command line that cannot be run.
var errUsage = errors.New("usage error")

const usage = `Usage: tmdbstatus <command> [flags]

Commands:
  serve      serve StatusService over gRPC and REST/JSON
  lookup     print the table entry of one TMDB status code
  list       print TMDB's whole status-code table
  translate  translate a TMDB response (body on stdin) into a gRPC status

Run 'tmdbstatus <command> --help' for the flags of a command.
`

// parseArgs parses the command line args (without the program name),
// reading the environment through getenv. It reports what it refuses on
// stderr, followed by the usage, and returns an error wrapping errUsage;
// when asked for help, it writes the usage to stdout and returns
// flag.ErrHelp.
func parseArgs(args []string, getenv func(string) string, stdout, stderr io.Writer) (server.Config, error) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return server.Config{}, fmt.Errorf("%w: no command", errUsage)
	}
	switch cmd := args[0]; cmd {
	case "serve":
		return parseServe(args[1:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return server.Config{}, flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "tmdbstatus: unknown command %q\n", cmd)
		fmt.Fprint(stderr, usage)
		return server.Config{}, fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}
