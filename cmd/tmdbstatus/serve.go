package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// serveCmd is `tmdbstatus serve`: the flags server.Config's tags declare,
// with its defaults (see withDefaults).
type serveCmd struct {
	server.Config `embed:""`
}

// check checks what involves more than one flag.
func (c *serveCmd) check() error {
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	case c.WriteTimeout <= c.ReadTimeout:
		// A request that takes the whole read timeout still gets its answer.
		return fmt.Errorf("--http-write-timeout %v: must be longer than --http-read-timeout (%v)", c.WriteTimeout, c.ReadTimeout)
	case c.TLSClientCA != "" && c.TLSCert == "":
		return errors.New("--tls-client-ca needs --tls-cert")
	}
	return nil
}

// Run serves until ctx is done; a setting server.Run cannot use is a usage error.
func (c *serveCmd) Run(ctx context.Context, now <-chan struct{}, std *stdio) error {
	err := server.Run(ctx, now, c.Config, os.Getenv, std.stderr)
	if _, ok := errors.AsType[*server.ConfigError](err); ok {
		return usageError{err}
	}
	return err
}
