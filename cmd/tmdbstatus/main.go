// Command tmdbstatus serves tmdbstatus.v1.StatusService, which translates
// TMDB API failures into canonical gRPC statuses, over gRPC and REST/JSON
// (`tmdbstatus serve`), and calls it from a shell (`tmdbstatus lookup CODE`,
// `list`, `translate`). Every flag has an environment variable, TMDBSTATUS_
// and its name in upper case, which the flag beats; `--help` lists them.
// SIGINT or SIGTERM stops the servers gracefully, and a second one at once.
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
	err := run(shutdown, now.Done(), os.Args[1:], &stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		// Exit 0.
	case errors.As(err, new(usageError)):
		os.Exit(2) // run has printed the error.
	default:
		fmt.Fprintf(os.Stderr, "tmdbstatus: %v\n", err)
		os.Exit(1)
	}
}

// shutdownSignals returns a context done at the first SIGINT or SIGTERM,
// which starts the shutdown, and one done at the second, which cuts it
// short (see server.Run); a further signal, or one after stop, has its
// default effect.
func shutdownSignals() (shutdown, now context.Context, stop context.CancelFunc) {
	base, stop := context.WithCancel(context.Background())
	shutdown, startShutdown := context.WithCancelCause(base)
	now, cutShort := context.WithCancel(base)
	signals := make(chan os.Signal, 2) // Room for both, however fast they come.
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
// done; now, once closed, cuts the shutdown short. It prints the usage, or
// a usageError, itself and returns any other error for main to print.
func run(ctx context.Context, now <-chan struct{}, args []string, std *stdio) error {
	kctx, err := parse(args, std.stdout, std.stderr)
	if err != nil {
		return err
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(now, std)
	name := kctx.Selected().Name
	if u, ok := errors.AsType[usageError](err); ok {
		fmt.Fprintf(std.stderr, "tmdbstatus %s: %v\n", name, u.error)
	} else if err != nil && name != "serve" {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return err
}

// usageError is the error of a command line that cannot be run, from a bad
// flag to a file it cannot read or a stdin with nothing to read: exit 2.
type usageError struct{ error }
