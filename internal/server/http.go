package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/gen/openapiv2"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/home"
)

// newHTTPServers returns the HTTP server of the REST API of srv, observed
// by obs, and the admin server, nil unless o.adminLis is set. The API's
// server also answers /healthz, /readyz (from ready) and /openapi.json, and
// /metrics without an admin server; the admin server answers /metrics, the
// health endpoints and net/http/pprof's profiles.
func newHTTPServers(cfg Config, o serveOptions, obs *observer, srv tmdbstatusv1.StatusServiceServer, ready *atomic.Bool) (api, admin *http.Server) {
	healthz, readyz := healthHandlers(ready)
	endpoints := http.NewServeMux()
	endpoints.Handle("/healthz", healthz)
	endpoints.Handle("/readyz", readyz)
	endpoints.HandleFunc("/openapi.json", openAPIHandler)
	var homeOpts []home.Option
	if o.adminLis == nil {
		endpoints.Handle("/metrics", obs.metrics.handler())
	} else {
		homeOpts = append(homeOpts, home.WithMetricsPath("")) // Not on this listener.
		mux := http.NewServeMux()
		mux.Handle("/metrics", obs.metrics.handler())
		mux.Handle("/healthz", healthz)
		mux.Handle("/readyz", readyz)
		handlePprof(mux)
		admin = newHTTPServer(cfg, o, mux)
	}
	rest := restHandler(cfg, obs, o.tracerProvider, srv, gateway.WithPage("/", home.New(homeOpts...)))
	return newHTTPServer(cfg, o, withEndpoints(endpoints, rest)), admin
}

// apiPrefix begins the path of every route of the REST API
// (gateway.Routes).
const apiPrefix = "/v1/"

// withEndpoints serves the requests of endpoints' patterns there and every
// other one with api, its path as the client sent it: the gateway answers
// any other path, a ".." in it too, with its JSON error, where a catch-all
// pattern would have the mux redirect it. The API's paths skip the mux,
// whose lookup allocates (4 allocations a request, 8 for a path it lacks).
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

// newHTTPServer returns the server of h with the timeouts and limits of
// cfg and the TLS configuration of o; net/http's own errors (a failed
// Accept, a bad TLS handshake), which clients cause, go to o.logger, rate
// limited.
func newHTTPServer(cfg Config, o serveOptions, h http.Handler) *http.Server {
	var tc *tls.Config
	if o.tls != nil {
		// Serving configures HTTP/2 in the server's TLS configuration:
		// each server has its own.
		tc = o.tls.Clone()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTPMaxHeaderBytes,
		TLSConfig:         tc,
		ErrorLog:          slog.NewLogLogger(newLimitedHandler(o.logger.Handler(), libraryLogBurst, libraryLogEvery), slog.LevelWarn),
	}
}

// serveHTTP serves s on lis, named what in its log line and error, until
// s is shut down.
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

// healthHandlers serves /healthz, which answers 200 while the process runs, and
// /readyz, which answers 200 while ready is true and 503 once shutdown has
// begun.
func healthHandlers(ready *atomic.Bool) (healthz, readyz http.Handler) {
	healthz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answerText(w, r, http.StatusOK, "ok\n")
	})
	readyz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready.Load() {
			answerText(w, r, http.StatusOK, "ok\n")
		} else {
			answerText(w, r, http.StatusServiceUnavailable, "shutting down\n")
		}
	})
	return healthz, readyz
}

// answerText answers a GET or HEAD with code and body, uncached, and any
// other method with 405.
func answerText(w http.ResponseWriter, r *http.Request, code int, body string) {
	if !allowGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	io.WriteString(w, body)
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

// openAPIHandler serves the OpenAPI (Swagger 2.0) description of the REST
// API, which protoc-gen-openapiv2 generates from proto/ (see buf.gen.yaml).
func openAPIHandler(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiv2.Spec)
}

// handlePprof serves net/http/pprof's profiles on mux, under
// /debug/pprof/: on the admin port alone, never beside the API.
func handlePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
