package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

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

// restRecorder is the ResponseWriter of a REST request: it keeps the status
// code the handler wrote and the route labelRoutes found. It is one small
// type, where httpsnoop.Wrap costs 8 allocations a request.
type restRecorder struct {
	http.ResponseWriter
	code    int
	route   string
	tracing bool
}

func (r *restRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *restRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *restRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// internalErrorJSON is internalError as the gateway writes errors.
var internalErrorJSON = func() []byte {
	b, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(internalError.Proto())
	if err != nil {
		panic(fmt.Sprintf("server: marshal the internal error: %v", err))
	}
	return b
}()

// rest returns next observed, and answering a panic with the gateway's 500
// INTERNAL, logged with its stack. http.ErrAbortHandler is passed on: it
// is how a handler asks net/http to abort the response.
func (o *observer) rest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &restRecorder{ResponseWriter: w, route: routeOther, tracing: o.tracing}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				o.recovered(r.Context(), "panic in HTTP handler", p)
				h := w.Header() // As the gateway's errors.
				delete(h, "Etag")
				delete(h, "Content-Length")
				h.Set("Content-Type", "application/json")
				h.Set("Cache-Control", gateway.ErrorCacheControl)
				h.Set("X-Content-Type-Options", "nosniff")
				rec.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write(internalErrorJSON)
			}
			o.endREST(rec, r, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// endREST counts the end of a REST request and logs it: at Debug, or at
// Error for a 500.
func (o *observer) endREST(rec *restRecorder, r *http.Request, start time.Time) {
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	o.metrics.observeREST(rec.route, r.Method, rec.code, time.Since(start))
	level := slog.LevelDebug
	if rec.code == http.StatusInternalServerError {
		level = slog.LevelError
	}
	ctx := r.Context()
	if !o.logger.Enabled(ctx, level) {
		return
	}
	o.logger.LogAttrs(ctx, level, "http request", logAttrs(ctx, r.Method, slog.Int("code", rec.code), start, r.RemoteAddr,
		slog.String("path", r.URL.Path))...)
}

// labelRoutes is a gateway middleware telling the REST observer the route
// of each request the gateway routes, and naming its span by route ("GET
// /v1/statuses/{code}", as OpenTelemetry's conventions ask). grpc-gateway
// calls a middleware once per route, so the route is found at its first
// request, from runtime.HTTPPattern: runtime.HTTPPathPattern is set only
// within the generated handler.
func labelRoutes(next runtime.HandlerFunc) runtime.HandlerFunc {
	var route atomic.Pointer[gateway.Route]
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rt := route.Load()
		if rt == nil {
			rt = routeOf(r.Context())
			route.Store(rt)
		}
		if rec, ok := w.(*restRecorder); ok {
			rec.route = rt.Template
			if rec.tracing {
				span := trace.SpanFromContext(r.Context())
				span.SetName(r.Method + " " + rt.Template)
				span.SetAttributes(attribute.String("http.route", rt.Template))
			}
		}
		next(w, r, pathParams)
	}
}

// captureVariable matches a variable of grpc-gateway's pattern syntax
// ("{code=*}"), written "{code}" in the API's templates.
var captureVariable = regexp.MustCompile(`\{([^=}]+)=\*\}`)

// routeOf returns the route of the pattern the gateway matched.
func routeOf(ctx context.Context) *gateway.Route {
	p, _ := runtime.HTTPPattern(ctx)
	template := captureVariable.ReplaceAllString(p.String(), "{$1}")
	for _, rt := range gateway.Routes() {
		if rt.Template == template {
			return &rt
		}
	}
	return &gateway.Route{Template: template}
}
