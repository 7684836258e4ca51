package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/tap"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// ConfigError is the error Run returns for a setting it cannot use: a TLS
// file that does not load, an OTEL_* value it does not know.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns e.Err.
func (e *ConfigError) Unwrap() error { return e.Err }

// Run listens on the addresses of cfg and serves StatusService there until
// ctx is done, then drains the servers (see the package's doc). Closing now
// (a second signal; nil: never) cuts short the shutdown delay if it comes
// during it, else the drain, whose requests are then cut. It reads the OTEL_* environment through getenv and
// logs to logOut. A setting it cannot use gives a *ConfigError before
// anything is served.
func Run(ctx context.Context, now <-chan struct{}, cfg Config, getenv func(string) string, logOut io.Writer) (err error) {
	logger := newLogger(logOut, cfg.LogFormat, cfg.LogLevel)
	defer func() { logStopped(ctx, logger, err) }()
	tc, err := tlsConfig(cfg)
	if err != nil {
		return &ConfigError{err}
	}
	tp, flushTraces, err := newTracerProvider(ctx, getenv)
	if err != nil {
		return &ConfigError{err}
	}
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

	o := serveOptions{
		logger:         logger,
		now:            now,
		tls:            tc,
		tracerProvider: tp,
	}
	setLibraryLoggers(o.logger)
	var lc net.ListenConfig
	for _, l := range []struct {
		what string
		addr string
		cap  int
		lis  *net.Listener
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
			o.closeListeners()
			return fmt.Errorf("%s: %w", l.what, err)
		}
		// Past the cap, a connection waits in the kernel's backlog, with
		// no file of this process, until one of the others closes.
		*l.lis = netutil.LimitListener(lis, l.cap)
	}
	o.logger.Info("connection caps", "grpc", apiCap, "http", apiCap, "admin", adminCap, "open_file_limit", nofile)
	return serve(ctx, cfg, o)
}

// logStopped writes the last line of Run: "stopped", with the error Run
// returns, or the cause of ctx after a clean shutdown. A *ConfigError has
// none: the command reports it as one line of usage.
func logStopped(ctx context.Context, logger *slog.Logger, err error) {
	if _, ok := errors.AsType[*ConfigError](err); ok {
		return
	}
	if err != nil {
		logger.Error("stopped", "error", err.Error())
		return
	}
	cause := "stopped"
	if c := context.Cause(ctx); c != nil {
		cause = c.Error()
	}
	logger.Info("stopped", "cause", cause)
}

// serveOptions is what serve runs with besides its configuration.
type serveOptions struct {
	logger   *slog.Logger
	grpcLis  net.Listener
	httpLis  net.Listener
	adminLis net.Listener // nil: /metrics is served on httpLis.

	// now, once closed, cuts short the shutdown delay if it comes during
	// it, else the drain's grace: a second signal. nil: never.
	now <-chan struct{}

	tls            *tls.Config          // nil: serve without TLS.
	tracerProvider trace.TracerProvider // nil: no tracing at all, not even propagation.

	// wrap, if set, wraps the StatusService server: tests use it to see
	// the handler's context.
	wrap func(tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer
}

func (o *serveOptions) closeListeners() {
	for _, lis := range []net.Listener{o.grpcLis, o.httpLis, o.adminLis} {
		if lis != nil {
			lis.Close()
		}
	}
}

// serve serves StatusService over gRPC on o.grpcLis and over REST/JSON on
// o.httpLis, with metrics and health on o.adminLis if it is set, until ctx
// is done or a server fails; then it shuts them down (see servers.stop).
// It returns nil after a clean shutdown that ctx started.
func serve(ctx context.Context, cfg Config, o serveOptions) error {
	m := newMetrics()
	obs := &observer{logger: o.logger, metrics: m, tracing: o.tracerProvider != nil}
	var srv tmdbstatusv1.StatusServiceServer = service.New()
	if o.wrap != nil {
		srv = o.wrap(srv)
	}
	// Both transports call srv: each translation counts once.
	srv = m.countTranslations(srv)

	// Canceled when the servers start draining, to end health's Watch
	// streams, which would otherwise hold the drain for its whole grace.
	draining, drain := context.WithCancel(context.Background())
	defer drain()
	s := servers{drain: drain}
	s.grpc, s.health = newGRPCServer(cfg, obs, o.tls, o.tracerProvider, srv, draining)
	s.ready.Store(true)
	s.http, s.admin = newHTTPServers(cfg, o, obs, srv, &s.ready)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		o.logger.Info("gRPC server listening", "addr", o.grpcLis.Addr().String())
		// Serve returns nil once stopped, or ErrServerStopped if it was
		// stopped before it started.
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

// stop tells health checkers that s is going (readiness false, gRPC
// health NOT_SERVING), and after cfg.ShutdownDelay stops the servers
// taking requests and gives those in flight cfg.ShutdownGrace to finish.
// o.now cuts short the phase it comes in: the delay (the drain then has
// its grace), or the drain.
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
	// The HTTP servers' drain ends when the grace does, or at once when
	// now is closed.
	stopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-now:
			cancel()
		case <-stopCtx.Done():
		}
	}()
	var stop errgroup.Group
	stop.Go(func() error { return stopGRPC(s.grpc, cfg.ShutdownGrace, now) })
	stop.Go(func() error { return stopHTTP(stopCtx, "HTTP server", s.http, cfg.ShutdownGrace) })
	if s.admin != nil {
		stop.Go(func() error { return stopHTTP(stopCtx, "admin server", s.admin, cfg.ShutdownGrace) })
	}
	return stop.Wait()
}

// newGRPCServer returns the gRPC server of srv, with health (SERVING) and
// reflection (if cfg.Reflection), whose RPCs are counted and timed in m, logged and recovered
// by o, and traced by tp (reading the traceparent metadata) unless it is
// nil, within the limits of cfg; tc, if not nil, is its TLS
// configuration. Health's Watch streams end when draining is done.
func newGRPCServer(cfg Config, o *observer, tc *tls.Config, tp trace.TracerProvider, srv tmdbstatusv1.StatusServiceServer, draining context.Context) (*grpc.Server, *health.Server) {
	rejected := o.metrics.rejected
	deadline := &requestDeadline{timeout: cfg.RequestTimeout}
	grpcOpts := []grpc.ServerOption{
		grpc.UnaryInterceptor(o.unary),
		grpc.ChainStreamInterceptor(o.stream, endWatchOnDrain(draining)),
		grpc.InTapHandle(deadline.tap),
		grpc.UnknownServiceHandler(rejected.unknownService),
		grpc.MaxRecvMsgSize(cfg.GRPCMaxRecvBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.MaxHeaderListSize(cfg.MaxHeaderListBytes),
		grpc.ConnectionTimeout(cfg.ConnectionTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             cfg.KeepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:                  cfg.KeepaliveTime,
			Timeout:               cfg.KeepaliveTimeout,
			MaxConnectionIdle:     cfg.MaxConnectionIdle,
			MaxConnectionAge:      cfg.MaxConnectionAge,
			MaxConnectionAgeGrace: cfg.MaxConnectionAgeGrace,
		}),
	}
	if tp != nil {
		grpcOpts = append(grpcOpts, grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagator))))
	}
	if tc != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(tc)))
	}
	grpcServer := grpc.NewServer(grpcOpts...)
	grpcServer.RegisterService(rejected.countDecodeFailures(&tmdbstatusv1.StatusService_ServiceDesc), srv)
	healthServer := health.NewServer()
	healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthServer.SetServingStatus(tmdbstatusv1.StatusService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	grpcServer.RegisterService(rejected.countDecodeFailures(&healthpb.Health_ServiceDesc), healthServer)
	if cfg.Reflection {
		reflection.Register(grpcServer)
	}
	o.metrics.resolveGRPC(grpcServer)
	deadline.streaming = streamingMethods(grpcServer)
	return grpcServer, healthServer
}

// requestDeadline gives every unary RPC a deadline of timeout from the
// moment its stream opens, before its request message has arrived, so that
// a stream whose request never comes ends (DEADLINE_EXCEEDED) and frees
// its slot and the drain: grpc-go's MaxRecvMsgSize and the handlers bound
// the rest. The streaming methods (health's Watch, reflection) have none.
// A client's earlier deadline still wins.
type requestDeadline struct {
	timeout   time.Duration
	streaming map[string]bool // by full method name; set before the server serves
}

// tap is the grpc.InTapHandle of d: one timer per RPC, released when the
// stream ends.
func (d *requestDeadline) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if d.streaming[info.FullMethodName] {
		return ctx, nil
	}
	// grpc-go cancels the stream's context, the parent of this one, when
	// the stream ends: that stops the timer.
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	_ = cancel
	return ctx, nil
}

// streamingMethods returns the full names of the streaming methods s
// serves.
func streamingMethods(s *grpc.Server) map[string]bool {
	streaming := map[string]bool{}
	for service, info := range s.GetServiceInfo() {
		for _, mi := range info.Methods {
			if mi.IsClientStream || mi.IsServerStream {
				streaming["/"+service+"/"+mi.Name] = true
			}
		}
	}
	return streaming
}

// endWatchOnDrain ends the health Watch streams once draining is done: a
// client watching health has been told NOT_SERVING when shutdown began, and
// grpc.Server.GracefulStop would wait for its stream until the grace runs
// out. Other streams, such as reflection's, run to their end.
func endWatchOnDrain(draining context.Context) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != healthpb.Health_Watch_FullMethodName {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		defer context.AfterFunc(draining, cancel)()
		wrapped := middleware.WrapServerStream(ss)
		wrapped.WrappedContext = ctx
		return handler(srv, wrapped)
	}
}

// restHandler returns the REST API of srv, configured by opts too, whose
// requests are counted and timed by route, logged and recovered by o, and
// traced by tp (reading the traceparent header) unless it is nil.
func restHandler(cfg Config, o *observer, tp trace.TracerProvider, srv tmdbstatusv1.StatusServiceServer, opts ...gateway.Option) http.Handler {
	opts = append([]gateway.Option{gateway.WithMaxBodyBytes(cfg.HTTPMaxBodyBytes), gateway.WithMiddlewares(labelRoutes)}, opts...)
	h := o.rest(gateway.New(srv, opts...))
	if tp == nil {
		return h
	}
	// The span is named by route once the gateway has routed the request.
	return otelhttp.NewHandler(h, "", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator))
}

// stopGRPC stops s gracefully: it waits for the RPCs in flight to finish.
// If they have not after timeout, or when now is closed, it cancels them
// and returns an error.
func stopGRPC(s *grpc.Server, timeout time.Duration, now <-chan struct{}) error {
	stopped := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-stopped:
		return nil
	case <-timer.C:
		s.Stop() // GracefulStop returns too.
		<-stopped
		return fmt.Errorf("gRPC server: RPCs still running after %v: stopped them", timeout)
	case <-now:
		s.Stop()
		<-stopped
		return errors.New("gRPC server: RPCs still running at the second signal: stopped them")
	}
}

// stopHTTP shuts s down gracefully: it waits for the requests in flight to
// finish. If they have not after timeout, or once ctx is done, it closes
// their connections and returns an error.
func stopHTTP(ctx context.Context, what string, s *http.Server, timeout time.Duration) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		s.Close()
		if parent.Err() != nil {
			return fmt.Errorf("%s: requests still running at the second signal: closed them", what)
		}
		return fmt.Errorf("%s: requests still running after %v: closed them: %w", what, timeout, err)
	}
	return nil
}
