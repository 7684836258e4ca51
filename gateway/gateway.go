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
// grpc-gateway's runtime.ServeMux routes, decodes and renders every
// request; nothing beside it answers one. What makes it fast is work done
// once: the JSON of the responses the service shares between calls
// (service.SharedResponses) is marshalled when the handler is made, and a
// request body is read once and unmarshalled once (see jsonMarshaler).
//
// # JSON
//
// Messages are read and written with protojson: fields in lowerCamelCase,
// scalars at their default value written out ("retryable": false), unset
// message fields left out rather than written as null. Request fields the
// proto does not define are ignored, so a body TMDB sent can be posted to
// /v1/statuses:translate as it is.
//
// The body of POST /v1/statuses:translate must be JSON: a Content-Type other
// than application/json (parameters such as charset allowed) is answered
// with 415 Unsupported Media Type and an Accept-Post header; no Content-Type
// at all is read as JSON. grpc-gateway does not check the Content-Type: it
// decodes any body it has no marshaler for as JSON, so a form post (what
// `curl -d` sends unless told otherwise) would be served as if it were JSON.
//
// # Errors
//
// Every error is answered with a google.rpc.Status as JSON, its details
// rendered with their "@type", holding exactly one google.rpc.ErrorInfo.
// The errors of the service, which all carry one, pass through untouched,
// with the HTTP status runtime.HTTPStatusFromCode maps their gRPC code to.
// The requests the gateway refuses itself, before the service is called,
// are answered in the shape of the service's own errors, with an ErrorInfo
// in the domain service.ServiceDomain and one of these reasons:
//
//	HTTP  gRPC code          reason              when
//	400   INVALID_ARGUMENT   MALFORMED_REQUEST   a body that is not JSON or has a value of the wrong
//	                                             type; a {code} that is not an int32; a bad
//	                                             Grpc-Timeout header
//	404   NOT_FOUND          ROUTE_NOT_FOUND     a path the API does not have
//	405   UNIMPLEMENTED      METHOD_NOT_ALLOWED  a known path with another method; Allow lists its methods
//	413   RESOURCE_EXHAUSTED BODY_TOO_LARGE      a body over the limit (WithMaxBodyBytes)
//	415   INVALID_ARGUMENT   MALFORMED_REQUEST   a Content-Type that is not JSON, as above
//
// A MALFORMED_REQUEST error of a body field or of {code} also carries a
// google.rpc.BadRequest naming the field ("status_code", "code", ...), and
// the ErrorInfo metadata holds the values the message quotes (under "code",
// "field", "contentType" or "maxBodyBytes"). A request is checked in this order: body size
// (413), route (404, 405), Content-Type (415), decoding (400), and only then
// is the service called.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"

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
	middlewares  []runtime.Middleware
}

// WithMiddlewares adds mws to the middlewares the mux runs once it has
// routed a request, after the gateway's own: runtime.HTTPPattern(ctx) is
// the route matched. Requests the mux does not route (404, 405) or that
// limitBody refuses (413) do not reach them.
func WithMiddlewares(mws ...runtime.Middleware) Option {
	return func(c *config) { c.middlewares = append(c.middlewares, mws...) }
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
func New(srv tmdbstatusv1.StatusServiceServer, opts ...Option) http.Handler {
	cfg := config{maxBodyBytes: DefaultMaxBodyBytes}
	for _, opt := range opts {
		opt(&cfg)
	}
	return newHandler(srv, newMarshaler(), cfg)
}

// newHandler returns the handler of srv, reading and writing JSON with m.
func newHandler(srv tmdbstatusv1.StatusServiceServer, m runtime.Marshaler, cfg config) http.Handler {
	var mux *runtime.ServeMux
	mws := append([]runtime.Middleware{
		keepPathParams,
		// mux is set by the time a request arrives.
		func(next runtime.HandlerFunc) runtime.HandlerFunc { return requireJSON(mux, next) },
	}, cfg.middlewares...)
	mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingError(newMethodProbe(srv))),
		runtime.WithMiddlewares(mws...),
		// Without this, a form POST (Content-Type
		// application/x-www-form-urlencoded, what `curl -d` sends) to a GET
		// path is served as the GET, and X-HTTP-Method-Override is obeyed:
		// a wrong method must be 405, whatever the Content-Type.
		runtime.WithDisablePathLengthFallback(),
	)
	register(mux, srv)
	return limitBody(mux, cfg.maxBodyBytes)
}

// register registers the handlers of srv on mux.
func register(mux *runtime.ServeMux, srv tmdbstatusv1.StatusServiceServer) {
	// The generated function only calls mux.Handle and always returns nil;
	// an error would be a change in grpc-gateway, a programming error.
	if err := tmdbstatusv1.RegisterStatusServiceHandlerServer(context.Background(), mux, srv); err != nil {
		panic(fmt.Sprintf("gateway: register StatusService handlers: %v", err))
	}
}

// methodProbe tells which methods a path allows, for the Allow header of a
// 405, by asking a mux with the same routes whose every handler only
// reports that it was reached: the routes are matched by grpc-gateway
// itself, not by a copy of its matcher. It runs on the 405 path alone.
type methodProbe struct {
	mux *runtime.ServeMux
}

func newMethodProbe(srv tmdbstatusv1.StatusServiceServer) *methodProbe {
	reached := func(runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request, _ map[string]string) { w.WriteHeader(http.StatusNoContent) }
	}
	mux := runtime.NewServeMux(
		runtime.WithMiddlewares(reached),
		runtime.WithRoutingErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, code int) {
			w.WriteHeader(code)
		}),
		runtime.WithDisablePathLengthFallback(),
	)
	register(mux, srv)
	return &methodProbe{mux: mux}
}

// allowed returns the methods of the API's routes that match the path of
// r, in the order of Routes, without repeats.
func (p *methodProbe) allowed(r *http.Request) []string {
	var methods []string
	for _, rt := range routes {
		if slices.Contains(methods, rt.Method) {
			continue
		}
		probe := &http.Request{Method: rt.Method, URL: r.URL, Header: http.Header{}, Body: http.NoBody}
		rec := &codeRecorder{header: http.Header{}}
		p.mux.ServeHTTP(rec, probe.WithContext(r.Context()))
		if rec.code == http.StatusNoContent {
			methods = append(methods, rt.Method)
		}
	}
	return methods
}

// codeRecorder is an http.ResponseWriter that keeps only the status code.
type codeRecorder struct {
	header http.Header
	code   int
}

func (c *codeRecorder) Header() http.Header         { return c.header }
func (c *codeRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (c *codeRecorder) WriteHeader(code int)        { c.code = code }

// pathParamsKey is the key of the request's path parameters
// (map[string]string, as the mux matched them), which errorHandler reads.
type pathParamsKey struct{}

// keepPathParams keeps the path parameters of the request in its context,
// so that errorHandler can tell which one did not parse, and its value.
func keepPathParams(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		next(w, r.WithContext(context.WithValue(r.Context(), pathParamsKey{}, pathParams)), pathParams)
	}
}

// requireJSON answers a POST, the one method of the API's routes with a
// body, whose Content-Type is set and is not application/json, with 415
// Unsupported Media Type. It runs after routing: a POST to a path the API
// does not have, or to a GET path, is still 404 or 405.
func requireJSON(mux *runtime.ServeMux, next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		ctype := r.Header.Get("Content-Type")
		if r.Method != http.MethodPost || isJSON(ctype) {
			next(w, r, pathParams)
			return
		}
		w.Header().Set("Accept-Post", "application/json")
		st := service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest,
			fmt.Sprintf("Content-Type %q is not application/json", ctype), map[string]string{"contentType": ctype}, "")
		writeError(mux, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusUnsupportedMediaType, Err: st.Err()})
	}
}

// limitBody reads the request body, up to limit bytes, before mux routes
// the request. The generated handlers turn any error decoding the body into
// INVALID_ARGUMENT, which would make a body over the limit a 400; reading it
// here first makes it a 413. The body is read whole anyway: the JSON decoder
// buffers it before unmarshaling. It is kept in the request's context too,
// for errorHandler to find what in it does not decode.
func limitBody(mux *runtime.ServeMux, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeError(mux, w, r, tooLarge(limit))
			return
		}
		if r.ContentLength != 0 { // Known and short enough, or unknown (-1).
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					err = tooLarge(limit)
				} else {
					err = service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest,
						fmt.Sprintf("read request body: %v", err), nil, "").Err()
				}
				writeError(mux, w, r, err)
				return
			}
			r.Body = newRequestBody(body)
		}
		mux.ServeHTTP(w, r)
	})
}

// tooLarge is the error of a body over limit bytes: RESOURCE_EXHAUSTED, as
// a grpc-go server answers a message over its receive limit, and HTTP 413.
func tooLarge(limit int64) error {
	return &runtime.HTTPStatusError{
		HTTPStatus: http.StatusRequestEntityTooLarge,
		Err: service.RequestStatus(codes.ResourceExhausted, service.ReasonBodyTooLarge,
			fmt.Sprintf("request body larger than %d bytes", limit),
			map[string]string{"maxBodyBytes": strconv.FormatInt(limit, 10)}, "").Err(),
	}
}

// writeError writes err with the mux's error handler, so that it has the
// shape of every other error.
func writeError(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, err error) {
	_, outbound := runtime.MarshalerForRequest(mux, r)
	runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
}

// isJSON reports whether a request body with Content-Type ctype is read as
// JSON: no Content-Type, or the media type application/json whatever its
// parameters, even malformed ones (JSON is UTF-8 whatever charset says).
func isJSON(ctype string) bool {
	if ctype == "" || ctype == "application/json" {
		return true
	}
	mediaType, _, _ := mime.ParseMediaType(ctype)
	return mediaType == "application/json"
}
