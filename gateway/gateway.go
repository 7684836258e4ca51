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
// The body of POST /v1/statuses:translate is JSON: a Content-Type of
// application/json (parameters such as charset allowed), none at all, or
// application/x-www-form-urlencoded with a body that starts as a JSON
// object (what `curl -d '{...}'` sends) is read as JSON; any other type
// (text/html, multipart/form-data, application/xml, ...) is answered with
// 415 Unsupported Media Type and an Accept-Post header.
//
// # Query parameters
//
// Translate also takes http_status and retry_after (or httpStatus and
// retryAfter) as query parameters, so that TMDB's body can be posted as it
// came with its HTTP status and Retry-After beside it; a field the body
// sets wins. Any other query parameter, on any route, is a 400
// MALFORMED_REQUEST naming it ("parameter" in the ErrorInfo metadata):
// none is ever ignored.
//
// # HTTP
//
// HEAD is served on every GET route: the GET's status and headers,
// Content-Length included, and no body. OPTIONS on a route is 204 No
// Content with Allow; a 405 has the same Allow ("GET, HEAD, OPTIONS").
// Every answer carries X-Content-Type-Options: nosniff.
//
// # Caching
//
// The answers of Lookup and ListStatuses carry a strong ETag, a hash of
// their JSON computed when it is marshalled at start-up (so the same in
// every process of a build, and different for each entry), and
// Cache-Control: max-age=300 (CacheControl). A GET or HEAD whose
// If-None-Match (one tag, a list, or *) matches is answered 304 Not
// Modified with no body. Every error is Cache-Control: no-store
// (ErrorCacheControl), the 404 of an unknown code included: an error
// answers one request, not a resource, and a later build may define the
// code. Translate's answers, to a POST, carry neither.
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
//	                                             type; a {code} that is not an int32; a query
//	                                             parameter the route does not take, or whose
//	                                             value does not parse; a bad Grpc-Timeout header
//	408   DEADLINE_EXCEEDED  MALFORMED_REQUEST   a body not received within the server's read timeout
//	404   NOT_FOUND          ROUTE_NOT_FOUND     a path the API does not have
//	405   UNIMPLEMENTED      METHOD_NOT_ALLOWED  a known path with another method; Allow lists its methods
//	413   RESOURCE_EXHAUSTED BODY_TOO_LARGE      a body over the limit (WithMaxBodyBytes)
//	415   INVALID_ARGUMENT   MALFORMED_REQUEST   a Content-Type that is not JSON, as above
//
// A MALFORMED_REQUEST error of a body field or of {code} also carries a
// google.rpc.BadRequest naming the field ("status_code", "code", ...), and
// the ErrorInfo metadata holds the values the message quotes (under "code",
// "field", "parameter", "contentType" or "maxBodyBytes"), each cut to 64
// bytes. An error says what was wrong, never where in the process: no
// socket address, no library's message. A request is checked in this
// order: body size (413, 408), route (404, 405), query (400), Content-Type
// (415), decoding (400), and only then is the service called.
//
// Nothing a client sends makes grpc-gateway log: front takes out a
// Content-Type it could not parse, no header is forwarded as metadata,
// and write errors (a client gone) are not passed to it.
package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

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
	pages        []page
}

// WithMiddlewares adds mws to the middlewares the mux runs once it has
// routed a request, after the gateway's own: runtime.HTTPPattern(ctx) is
// the route matched. Requests the mux does not route (404, 405) or that
// front refuses (413) do not reach them.
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

// WithPage serves h at path, a literal path such as "/", for GET, HEAD
// (h sees a GET) and OPTIONS, as a route of the mux beside the API's: the
// other methods are 405, and a GET whose If-None-Match matches the ETag h
// sets is answered 304. Its answers carry CacheControl; its query is not
// checked. New panics if path is not a path template.
func WithPage(path string, h http.Handler) Option {
	return func(c *config) { c.pages = append(c.pages, page{path: path, h: h}) }
}

// New returns an http.Handler that serves the REST/JSON API of srv. srv
// must not be nil.
func New(srv tmdbstatusv1.StatusServiceServer, opts ...Option) http.Handler {
	cfg := config{maxBodyBytes: DefaultMaxBodyBytes}
	for _, opt := range opts {
		opt(&cfg)
	}
	m := newMarshaler()
	return newHandler(srv, m, m.shared, cfg)
}

// newHandler returns the handler of srv, reading and writing JSON with m,
// writing the headers of the shared answers.
func newHandler(srv tmdbstatusv1.StatusServiceServer, m runtime.Marshaler, shared sharedAnswers, cfg config) http.Handler {
	var mux *runtime.ServeMux
	mws := []runtime.Middleware{
		keepPathParams,
		// mux is set by the time a request arrives.
		func(next runtime.HandlerFunc) runtime.HandlerFunc { return checkQuery(mux, m)(next) },
		func(next runtime.HandlerFunc) runtime.HandlerFunc { return requireJSON(mux, m, next) },
	}
	mws = append(mws, cfg.middlewares...)
	mws = append(mws, answer)
	mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingError(newMethodProbe(srv, cfg.pages))),
		runtime.WithMiddlewares(mws...),
		runtime.WithForwardResponseOption(shared.cacheHeaders),
		// The service, called in-process, reads no metadata; and
		// grpc-gateway logs every header it cannot forward (a non-ASCII
		// User-Agent, say), which would let any client flood the logs.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		// Without this, a form POST (Content-Type
		// application/x-www-form-urlencoded, what `curl -d` sends) to a GET
		// path is served as the GET, and X-HTTP-Method-Override is obeyed:
		// a wrong method must be 405, whatever the Content-Type.
		runtime.WithDisablePathLengthFallback(),
	)
	register(mux, srv)
	for _, p := range cfg.pages {
		p.register(mux)
	}
	return front(mux, m, cfg.maxBodyBytes)
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

func newMethodProbe(srv tmdbstatusv1.StatusServiceServer, pages []page) *methodProbe {
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
	for _, p := range pages {
		p.register(mux)
	}
	return &methodProbe{mux: mux}
}

// allowed returns the methods the path of r allows: those of the routes
// that match it, in the order of Routes, HEAD after GET, then OPTIONS; or
// none.
func (p *methodProbe) allowed(r *http.Request) []string {
	var methods []string
	for _, m := range probeMethods {
		if slices.Contains(methods, m) {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Header: http.Header{}, Body: http.NoBody}
		rec := &codeRecorder{header: http.Header{}}
		p.mux.ServeHTTP(rec, probe.WithContext(r.Context()))
		if rec.code != http.StatusNoContent {
			continue
		}
		methods = append(methods, m)
		if m == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
	}
	if len(methods) > 0 {
		methods = append(methods, http.MethodOptions)
	}
	return methods
}

// probeMethods are the methods of the mux's routes: those of the API, in
// the order of Routes, and GET for the pages.
var probeMethods = func() []string {
	var ms []string
	for _, rt := range routes {
		ms = append(ms, rt.Method)
	}
	return append(ms, http.MethodGet)
}()

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
// body, with 415 Unsupported Media Type unless its body is read as JSON:
// a Content-Type of application/json (whatever its parameters, even
// malformed ones: JSON is UTF-8 whatever charset says), none, or
// application/x-www-form-urlencoded with a body that is empty or starts
// as a JSON object does, which is what `curl -d '{...}'` sends. It runs
// after routing: a POST to a path the API does not have, or to a GET
// path, is still 404 or 405.
func requireJSON(mux *runtime.ServeMux, m runtime.Marshaler, next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		body, ok := r.Body.(*requestBody)
		if r.Method != http.MethodPost || !ok || readsAsJSON(body) {
			next(w, r, pathParams)
			return
		}
		w.Header().Set("Accept-Post", "application/json")
		ctype := clip(body.contentType)
		st := service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest,
			fmt.Sprintf("Content-Type %q is not application/json", ctype), map[string]string{"contentType": ctype}, "")
		writeError(mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusUnsupportedMediaType, Err: st.Err()})
	}
}

// readsAsJSON reports whether body is read as JSON (see requireJSON).
func readsAsJSON(body *requestBody) bool {
	switch mediaType(body.contentType) {
	case "", "application/json":
		return true
	case "application/x-www-form-urlencoded":
		data := bytes.TrimLeft(body.data, " \t\r\n")
		return len(data) == 0 || data[0] == '{'
	}
	return false
}

// mediaType returns the media type of the Content-Type ctype in lower
// case, without its parameters, even malformed ones.
func mediaType(ctype string) string {
	if ctype == "" || ctype == "application/json" {
		return ctype
	}
	mt, _, _ := strings.Cut(ctype, ";")
	return strings.ToLower(strings.TrimSpace(mt))
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

// writeError writes err with the mux's error handler and the marshaler m,
// so that it has the shape of every other error.
func writeError(mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	runtime.HTTPError(r.Context(), mux, m, w, r, err)
}
