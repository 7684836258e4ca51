package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tmdbstatus/tmdbstatus/gateway"
)

// internalErrorJSON is internalError as the gateway writes errors.
var internalErrorJSON = func() []byte {
	b, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(internalError.Proto())
	if err != nil {
		panic(fmt.Sprintf("server: marshal the internal error: %v", err))
	}
	return b
}()

// restRecorder is the ResponseWriter of a REST request: it keeps the
// status code the handler wrote and the route labelRoutes found.
type restRecorder struct {
	http.ResponseWriter
	code    int
	route   string
	tracing bool
	req     *http.Request
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

// spanName names the span of the request by its route, as OpenTelemetry's
// semantic conventions ask: "GET /v1/statuses/{code}".
func (r *restRecorder) spanName(rt *gateway.Route) {
	if !r.tracing {
		return
	}
	span := trace.SpanFromContext(r.req.Context())
	span.SetName(r.req.Method + " " + rt.Template)
	span.SetAttributes(attribute.String("http.route", rt.Template))
}

// rest returns next counted and timed by route, logged, and answering a
// panic with a 500 INTERNAL google.rpc.Status, logged with its stack, as
// unary does for RPCs, so that the connection is answered and the request
// counted and logged. http.ErrAbortHandler is passed on: it is how a
// handler asks net/http to abort the response.
func (o *observer) rest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &restRecorder{ResponseWriter: w, route: routeOther, tracing: o.tracing, req: r}
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

// endREST counts and logs the end of a REST request: at Debug, or at Error
// for a 500.
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
