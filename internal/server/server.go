package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/tlsconfig"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// ConfigError is the error Run returns for a setting it cannot use: a TLS
// file that does not load, an OTEL_* value it does not know.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns e.Err.
func (e *ConfigError) Unwrap() error { return e.Err }

// Run serves StatusService on the addresses of cfg until ctx is done, then
// drains (see doc.go), cut short when now (nil: never) closes; it reads
// OTEL_* through getenv, logs to logOut, and returns a *ConfigError for a
// setting it cannot use before it serves.
func Run(ctx context.Context, now <-chan struct{}, cfg Config, getenv func(string) string, logOut io.Writer) (err error) {
	o := serveOptions{logger: newLogger(logOut, cfg.LogFormat, cfg.LogLevel), now: now}
	defer func() { logStopped(ctx, o.logger, err) }()
	if cfg.TLSCert != "" {
		files := tlsconfig.Files{Cert: cfg.TLSCert, Key: cfg.TLSKey, CA: cfg.TLSClientCA, CAFlag: "--tls-client-ca"}
		if o.tls, err = tlsconfig.Server(files); err != nil {
			return &ConfigError{err}
		}
	}
	tp, flushTraces, err := newTracerProvider(ctx, getenv)
	if err != nil {
		return &ConfigError{err}
	}
	o.tracerProvider = tp
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if ferr := flushTraces(ctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("flush traces: %w", ferr))
		}
	}()
	nofile, err := openFileLimit()
	if err != nil {
		return fmt.Errorf("read the open-file limit: %w", err)
	}
	apiCap, adminCap, err := connectionCaps(cfg, nofile)
	if err != nil {
		return &ConfigError{err}
	}
	setLibraryLoggers(o.logger)
	if err := o.listen(ctx, cfg, apiCap, adminCap); err != nil {
		return err
	}
	o.logger.Info("connection caps", "grpc", apiCap, "http", apiCap, "admin", adminCap, "open_file_limit", nofile)
	return serve(ctx, cfg, o)
}

// listen opens the listeners of cfg, each taking at most its cap of
// connections: past it, a connection waits in the kernel's backlog, with no
// file of this process, until another closes.
func (o *serveOptions) listen(ctx context.Context, cfg Config, apiCap, adminCap int) error {
	var lc net.ListenConfig
	for _, l := range []struct {
		what, addr string
		cap        int
		lis        *net.Listener
	}{
		{"gRPC server", cfg.GRPCAddr, apiCap, &o.grpcLis},
		{"HTTP server", cfg.HTTPAddr, apiCap, &o.httpLis},
		{"admin server", cfg.AdminAddr, adminCap, &o.adminLis},
	} {
		if l.addr == "" {
			continue
		}
		lis, err := lc.Listen(ctx, "tcp", l.addr)
		if err != nil {
			for _, lis := range []net.Listener{o.grpcLis, o.httpLis, o.adminLis} {
				if lis != nil {
					lis.Close()
				}
			}
			return fmt.Errorf("%s: %w", l.what, err)
		}
		*l.lis = netutil.LimitListener(lis, l.cap)
	}
	return nil
}

const (
	// fdHeadroom is the open files the connection caps leave to the
	// listeners, stdio, the OTLP exporter and the runtime.
	fdHeadroom = 64

	// maxConnectionsCeiling is the largest cap derived from the open-file
	// limit: about 100 MiB of idle gRPC connections.
	maxConnectionsCeiling = 1024
)

// connectionCaps returns the cap on the open connections of the gRPC and
// HTTP ports (each) and of the admin port (0 without one), so that all, with
// fdHeadroom, fit the open-file limit nofile: a flood on one port cannot
// take the files of the others.
func connectionCaps(cfg Config, nofile uint64) (api, admin int, err error) {
	if cfg.AdminAddr != "" {
		admin = cfg.AdminMaxConnections
	}
	limit := int64(min(nofile, math.MaxInt32))
	if cfg.MaxConnections > 0 {
		need := 2*int64(cfg.MaxConnections) + int64(admin) + fdHeadroom
		if need > limit {
			return 0, 0, fmt.Errorf("--max-connections %d: the gRPC and HTTP ports' connections, the admin port's %d and %d other files need %d open files; the limit is %d",
				cfg.MaxConnections, admin, fdHeadroom, need, limit)
		}
		return cfg.MaxConnections, admin, nil
	}
	const least = 16 // Below it, the open-file limit is too low to serve anyone.
	api = int(min((limit-int64(admin)-fdHeadroom)/2, maxConnectionsCeiling))
	if api < least {
		return 0, 0, fmt.Errorf("the open-file limit %d leaves %d connections to the gRPC and HTTP ports; want at least %d: raise it (ulimit -n)", limit, max(api, 0), least)
	}
	return api, admin, nil
}

// logStopped writes Run's last line, with its error or ctx's cause, but none
// for a *ConfigError, which the command reports as usage.
func logStopped(ctx context.Context, logger *slog.Logger, err error) {
	if _, ok := errors.AsType[*ConfigError](err); ok {
		return
	}
	if err != nil {
		logger.Error("stopped", "error", err.Error())
		return
	}
	logger.Info("stopped", "cause", context.Cause(ctx).Error()) // serve returns nil once ctx is done.
}

// serveOptions is what serve runs with besides its configuration.
type serveOptions struct {
	logger                     *slog.Logger
	grpcLis, httpLis, adminLis net.Listener // adminLis nil: /metrics is served on httpLis.

	now            <-chan struct{}      // A second signal; nil: never.
	tls            *tls.Config          // nil: serve without TLS.
	tracerProvider trace.TracerProvider // nil: no tracing at all, not even propagation.

	// wrap, if set, wraps the StatusService server, for tests.
	wrap func(tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer
}

// serve serves StatusService on o's listeners until ctx is done or a server
// fails, then stops the servers; nil is a clean shutdown that ctx started.
func serve(ctx context.Context, cfg Config, o serveOptions) error {
	m := newMetrics()
	obs := &observer{logger: o.logger, metrics: m}
	var srv tmdbstatusv1.StatusServiceServer = service.New()
	if o.wrap != nil {
		srv = o.wrap(srv)
	}
	srv = countingServer{srv, m} // Under both transports: each translation counts once.

	// Canceled when the drain begins, to end health's Watch streams.
	draining, drain := context.WithCancel(context.Background())
	defer drain()
	s := servers{drain: drain}
	s.grpc, s.health = newGRPCServer(cfg, obs, o.tls, o.tracerProvider, srv, draining)
	s.ready.Store(true)
	s.http, s.admin = newHTTPServers(cfg, o, obs, srv, &s.ready)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		o.logger.Info("gRPC server listening", "addr", o.grpcLis.Addr().String())
		// ErrServerStopped: stopped before it started.
		if err := s.grpc.Serve(o.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("gRPC server: %w", err)
		}
		return nil
	})
	g.Go(func() error { return serveHTTP(o, "HTTP server", s.http, o.httpLis) })
	if s.admin != nil {
		g.Go(func() error { return serveHTTP(o, "admin server", s.admin, o.adminLis) })
	}
	g.Go(func() error {
		<-ctx.Done()
		o.logger.Info("shutting down", "cause", context.Cause(ctx).Error())
		return s.stop(ctx, cfg, o)
	})
	return g.Wait()
}

// servers are the servers of one serve.
type servers struct {
	grpc        *grpc.Server
	health      *health.Server
	http, admin *http.Server // admin: nil without an admin listener
	ready       atomic.Bool  // /readyz answers 200
	drain       func()       // ends health's Watch streams
}

// stop turns health to NOT_SERVING, and after cfg.ShutdownDelay drains the
// servers for cfg.ShutdownGrace; o.now cuts short the phase it comes in.
func (s *servers) stop(ctx context.Context, cfg Config, o serveOptions) error {
	s.ready.Store(false)
	s.health.Shutdown()
	now := o.now
	if cfg.ShutdownDelay > 0 {
		select {
		case <-time.After(cfg.ShutdownDelay):
		case <-now:
			o.logger.Info("shutdown delay cut short")
			now = nil // The drain has its grace.
		}
	}
	s.drain()
	// cut ends the drain, with its cause: the grace over, or a second signal.
	cut, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	graceOver := fmt.Errorf("still running after %v", cfg.ShutdownGrace)
	cut, cancelGrace := context.WithTimeoutCause(cut, cfg.ShutdownGrace, graceOver)
	defer cancelGrace()
	go func() {
		select {
		case <-now:
			cancel(errors.New("still running at the second signal"))
		case <-cut.Done():
		}
	}()
	var stop errgroup.Group
	stop.Go(func() error { return stopGRPC(cut, s.grpc) })
	stop.Go(func() error { return stopHTTP(cut, "HTTP server", s.http) })
	if s.admin != nil {
		stop.Go(func() error { return stopHTTP(cut, "admin server", s.admin) })
	}
	return stop.Wait()
}

// serveHTTP serves s on lis, named what in its log line and error, until s
// is shut down.
func serveHTTP(o serveOptions, what string, s *http.Server, lis net.Listener) error {
	o.logger.Info(what+" listening", "addr", lis.Addr().String())
	var err error
	if o.tls != nil {
		err = s.ServeTLS(lis, "", "") // The certificate is in s.TLSConfig.
	} else {
		err = s.Serve(lis)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// stopGRPC stops s gracefully, and at once when ctx is done, returning
// ctx's cause.
func stopGRPC(ctx context.Context, s *grpc.Server) error {
	stopNow := context.AfterFunc(ctx, s.Stop) // GracefulStop returns too.
	s.GracefulStop()
	if !stopNow() {
		return fmt.Errorf("gRPC server: RPCs %v: stopped them", context.Cause(ctx))
	}
	return nil
}

// stopHTTP shuts s down gracefully, and closes its connections when ctx is
// done, returning ctx's cause.
func stopHTTP(ctx context.Context, what string, s *http.Server) error {
	if err := s.Shutdown(ctx); err != nil {
		s.Close()
		return fmt.Errorf("%s: requests %v: closed them", what, context.Cause(ctx))
	}
	return nil
}
