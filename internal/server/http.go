package server

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // Registers its handlers on http.DefaultServeMux, served on the admin port alone.
	"strings"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/gen/openapiv2"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/home"
)

// newHTTPServers returns the server of the REST API of srv and its
// endpoints, and the admin server (/metrics, health, pprof) if o has its
// listener.
func newHTTPServers(cfg Config, o serveOptions, obs *observer, srv tmdbstatusv1.StatusServiceServer, ready *atomic.Bool) (api, admin *http.Server) {
	healthz, readyz := probe(func() bool { return true }), probe(ready.Load)
	endpoints := http.NewServeMux()
	endpoints.Handle("/healthz", healthz)
	endpoints.Handle("/readyz", readyz)
	endpoints.HandleFunc("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		if allowGet(w, r) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(openapiv2.Spec)
		}
	})
	var homeOpts []home.Option
	if o.adminLis == nil {
		endpoints.Handle("/metrics", obs.metrics.handler())
	} else {
		homeOpts = append(homeOpts, home.WithMetricsPath("")) // Not on this listener.
		mux := http.NewServeMux()
		mux.Handle("/metrics", obs.metrics.handler())
		mux.Handle("/healthz", healthz)
		mux.Handle("/readyz", readyz)
		mux.Handle("/debug/pprof/", http.DefaultServeMux)
		admin = newHTTPServer(cfg, o, mux)
	}
	rest := restHandler(cfg, obs, o.tracerProvider, srv, gateway.WithPage("/", home.New(homeOpts...)))
	return newHTTPServer(cfg, o, withEndpoints(endpoints, rest)), admin
}

// restHandler returns the REST API of srv, with opts too, observed by o and
// traced by tp unless it is nil.
func restHandler(cfg Config, o *observer, tp trace.TracerProvider, srv tmdbstatusv1.StatusServiceServer, opts ...gateway.Option) http.Handler {
	opts = append([]gateway.Option{gateway.WithMaxBodyBytes(cfg.HTTPMaxBodyBytes), gateway.WithMiddlewares(labelRoutes)}, opts...)
	h := o.rest(gateway.New(srv, opts...))
	if tp == nil {
		return h
	}
	// labelRoutes names the span once the gateway has routed the request.
	return otelhttp.NewHandler(h, "", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator))
}

// labelRoutes is a gateway middleware giving a routed request's recorder
// its route, and its span the name "GET /v1/statuses/{code}", as
// OpenTelemetry's conventions ask; grpc-gateway chains it once per route.
func labelRoutes(next runtime.HandlerFunc) runtime.HandlerFunc {
	var route atomic.Pointer[string]
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rt := route.Load()
		if rt == nil {
			// HTTPPathPattern would be set only in the generated handler.
			p, _ := runtime.HTTPPattern(r.Context())
			template := gateway.Template(p)
			rt = &template
			route.Store(rt)
		}
		if rec, ok := w.(*restRecorder); ok {
			rec.route = *rt
		}
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(r.Method + " " + *rt)
			span.SetAttributes(attribute.String("http.route", *rt))
		}
		next(w, r, pathParams)
	}
}

// apiPrefix begins the path of every route of the REST API.
const apiPrefix = "/v1/"

// withEndpoints serves the paths endpoints has a pattern for there, and
// every other with api, which answers any path it lacks (a ".." one too)
// with its JSON error; the API's paths skip the mux, whose lookup allocates.
func withEndpoints(endpoints *http.ServeMux, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, apiPrefix) {
			if _, pattern := endpoints.Handler(r); pattern != "" {
				endpoints.ServeHTTP(w, r)
				return
			}
		}
		api.ServeHTTP(w, r)
	})
}

// newHTTPServer returns the server of h with the limits of cfg and o's TLS,
// logging net/http's own errors, which clients cause, rate limited.
func newHTTPServer(cfg Config, o serveOptions, h http.Handler) *http.Server {
	var tc *tls.Config
	if o.tls != nil {
		tc = o.tls.Clone() // Serving configures HTTP/2 in it: each server has its own.
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTPMaxHeaderBytes,
		TLSConfig:         tc,
		ErrorLog:          slog.NewLogLogger(newLimitedHandler(o.logger.Handler()), slog.LevelWarn),
	}
}

// probe answers a GET or HEAD, uncached, with 200 while ready reports true
// and 503 once shutdown has begun.
func probe(ready func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowGet(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
}

// allowGet answers 405 to a request that is neither a GET nor a HEAD, and
// reports whether it is one.
func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
