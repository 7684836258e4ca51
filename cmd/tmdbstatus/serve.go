package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// runServe runs `tmdbstatus serve` with cfg until ctx is done (now cuts the
// shutdown short, see server.Run), reading the
// OTEL_* environment through getenv and logging to stderr. A TLS file or
// an OTEL_* value it cannot use is reported on stderr as one line, and the
// error returned wraps errUsage.
func runServe(ctx context.Context, now <-chan struct{}, cfg server.Config, getenv func(string) string, stderr io.Writer) error {
	err := server.Run(ctx, now, cfg, getenv, stderr)
	if _, ok := errors.AsType[*server.ConfigError](err); ok {
		fmt.Fprintf(stderr, "tmdbstatus serve: %v\n", err)
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}
