// Command tmdbstatus serves tmdbstatus.v1.StatusService, which translates
// TMDB API failures into canonical gRPC statuses, over gRPC and over its
// REST/JSON gateway, and calls it from a shell.
//
// Usage:
//
//	tmdbstatus serve [--grpc-addr=:9090] [--http-addr=:8080] [flags]
//	tmdbstatus lookup CODE | list | translate [flags]
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
)

func main() {
	shutdown, now, stop := shutdownSignals()
	err := run(shutdown, now.Done(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		// Exit 0.
	case errors.Is(err, errUsage):
		os.Exit(2) // run has printed the error.
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

// stdio is what a command reads and writes.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run runs the command line args (without the program name) until ctx is
// done; now, once closed, cuts the shutdown short (see server.Run). It
// writes the usage to stdout when asked for it (returning flag.ErrHelp),
// and a command line it refuses as one line on stderr (returning an error
// wrapping errUsage).
func run(ctx context.Context, now <-chan struct{}, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, now, args, os.Getenv, &stdio{os.Stdin, stdout, stderr})
}

// runWith is run reading the environment through getenv and stdin from io.
func runWith(ctx context.Context, now <-chan struct{}, args []string, getenv func(string) string, std *stdio) error {
	kctx, err := parse(args, getenv, std.stdout, std.stderr)
	if err != nil {
		return err
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(now, std)
	if u, ok := errors.AsType[usageError](err); ok {
		fmt.Fprintf(std.stderr, "tmdbstatus %s: %v\n", kctx.Selected().Name, u.error)
		return fmt.Errorf("%w: %w", errUsage, u.error)
	}
	if err != nil && kctx.Selected().Name != "serve" {
		return fmt.Errorf("%s: %w", kctx.Selected().Name, err)
	}
	return err
}

// errUsage is wrapped by the errors of a command line that cannot be run.
var errUsage = errors.New("usage error")

// usageError is the error of a command that refuses what it was given: a
// file it cannot read, a stdin with nothing to read.
type usageError struct{ error }
