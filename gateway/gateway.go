// Package gateway serves the REST/JSON API of tmdbstatus.v1.StatusService,
// as the google.api.http annotations of proto/tmdbstatus/v1/service.proto
// define it:
//
//	GET  /v1/statuses/{code}     Lookup
//	GET  /v1/statuses            ListStatuses
//	POST /v1/statuses:translate  Translate
//
// The handler calls the StatusServiceServer in-process, through
// grpc-gateway's generated RegisterStatusServiceHandlerServer: there is no
// gRPC hop over the network, and so no gRPC interceptor runs.
//
// Every error is answered with a google.rpc.Status as JSON, its details
// rendered with their "@type", and the HTTP status grpc-gateway maps the
// gRPC code to (runtime.HTTPStatusFromCode), with two exceptions made here:
// 405 Method Not Allowed for a known path with the wrong method, and 413
// Request Entity Too Large for a request body over the limit.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"

	// The error details the service sends (google.rpc.ErrorInfo, BadRequest,
	// RetryInfo, ...) are google.protobuf.Any values; protojson can render
	// them only if their types are in the global registry.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
)

// DefaultMaxBodyBytes is the largest request body, in bytes, a handler made
// without WithMaxBodyBytes reads: 4 MiB, the largest message a grpc-go server
// receives by default, so that both transports refuse the same requests.
const DefaultMaxBodyBytes = 4 << 20

// An Option configures the handler New returns.
type Option func(*config)

type config struct {
	maxBodyBytes int64
}

// WithMaxBodyBytes sets the largest request body, in bytes, the handler
// reads. A longer body is answered with 413 Request Entity Too Large and a
// RESOURCE_EXHAUSTED google.rpc.Status; the service is not called. A negative
// n counts as zero: only empty bodies are accepted.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBodyBytes = max(n, 0) }
}

// New returns an http.Handler that serves the REST/JSON API of srv. srv
// must not be nil.
//
// Responses and errors are written by grpc-gateway's default marshaler:
// JSON with the proto field names in lowerCamelCase, unpopulated fields
// emitted; request fields the proto does not define are ignored, so a body
// TMDB sent can be posted to /v1/statuses:translate as it is.
func New(srv tmdbstatusv1.StatusServiceServer, opts ...Option) http.Handler {
	cfg := config{maxBodyBytes: DefaultMaxBodyBytes}
	for _, opt := range opts {
		opt(&cfg)
	}
	mux := runtime.NewServeMux(
		runtime.WithRoutingErrorHandler(routingError),
		// Without this, a form POST (Content-Type
		// application/x-www-form-urlencoded, what `curl -d` sends) to a GET
		// path is served as the GET, and X-HTTP-Method-Override is obeyed:
		// a wrong method must be 405, whatever the Content-Type.
		runtime.WithDisablePathLengthFallback(),
	)
	// The generated function only calls mux.Handle and always returns nil;
	// an error would be a change in grpc-gateway, a programming error.
	if err := tmdbstatusv1.RegisterStatusServiceHandlerServer(context.Background(), mux, srv); err != nil {
		panic(fmt.Sprintf("gateway: register StatusService handlers: %v", err))
	}
	return limitBody(mux, cfg.maxBodyBytes)
}

// routingError answers a request the mux has no route for. It differs from
// runtime.DefaultRoutingErrorHandler in one case only: a known path with the
// wrong method is 405 Method Not Allowed, not the 501 Not Implemented that
// UNIMPLEMENTED maps to, as the grpc-gateway documentation shows
// ("Customizing Routing Errors"). The gRPC code stays UNIMPLEMENTED.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus != http.StatusMethodNotAllowed {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		return
	}
	runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{
		HTTPStatus: httpStatus,
		Err:        status.Error(codes.Unimplemented, http.StatusText(httpStatus)),
	})
}

// limitBody reads the request body, up to limit bytes, before mux routes
// the request. The generated handlers turn any error decoding the body into
// INVALID_ARGUMENT, which would make a body over the limit a 400; reading it
// here first makes it a 413. The body is read whole anyway: the JSON decoder
// buffers it before unmarshaling.
func limitBody(mux *runtime.ServeMux, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			bodyError(mux, w, r, tooLarge(limit))
			return
		}
		if r.ContentLength != 0 { // Known and short enough, or unknown (-1).
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					err = tooLarge(limit)
				} else {
					err = status.Errorf(codes.InvalidArgument, "read request body: %v", err)
				}
				bodyError(mux, w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		mux.ServeHTTP(w, r)
	})
}

// tooLarge is the error of a body over limit bytes: RESOURCE_EXHAUSTED, as
// a grpc-go server answers a message over its receive limit, and HTTP 413.
func tooLarge(limit int64) error {
	return &runtime.HTTPStatusError{
		HTTPStatus: http.StatusRequestEntityTooLarge,
		Err:        status.Errorf(codes.ResourceExhausted, "request body larger than %d bytes", limit),
	}
}

// bodyError writes err with the mux's error handler, so that it has the
// shape of every other error.
func bodyError(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, err error) {
	_, outbound := runtime.MarshalerForRequest(mux, r)
	runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
}
