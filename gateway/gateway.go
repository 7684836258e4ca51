// Package gateway serves the REST/JSON API of tmdbstatus.v1.StatusService,
// as the google.api.http annotations of service.proto define it, by calling
// a StatusServiceServer in-process through grpc-gateway's generated
// handlers: no gRPC hop, so no gRPC interceptor runs. docs/rest.md gives the
// API as a client sees it.
//
// One runtime.ServeMux routes, decodes and renders every request, through
// its options; front runs before it. The JSON of service.SharedResponses is
// marshalled once, with its ETag and Content-Length, and a body is read and
// unmarshalled once (jsonMarshaler). A request is checked in this order:
// body size (413, 408), route (404, 405), query (400), Content-Type (415),
// path and body decoding (400). The gateway's own errors carry one
// ErrorInfo in service.ServiceDomain, quote input cut to 64 bytes, and name
// no address or library; nothing a client sends makes grpc-gateway log.
package gateway

import (
	"context"
	"fmt"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"

	// Registers the error details the service sends (google.protobuf.Any
	// values), which protojson renders only if their types are known.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
)

// DefaultMaxBodyBytes is the largest request body a handler reads by
// default: 4 MiB, the largest message a grpc-go server receives by default.
const DefaultMaxBodyBytes = 4 << 20

// An Option configures the handler New returns.
type Option func(*config)

type config struct {
	maxBodyBytes int64
	middlewares  []runtime.Middleware
	pages        map[string]http.Handler
}

// WithMiddlewares adds mws to the middlewares the mux runs, after the
// gateway's own, on a request it has routed: runtime.HTTPPattern(ctx) is set.
func WithMiddlewares(mws ...runtime.Middleware) Option {
	return func(c *config) { c.middlewares = append(c.middlewares, mws...) }
}

// WithMaxBodyBytes sets the largest request body, in bytes, the handler
// reads; a longer one is 413, RESOURCE_EXHAUSTED. A negative n counts as 0.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBodyBytes = max(n, 0) }
}

// WithPage serves h at path, a literal path such as "/", as a route of the
// mux for GET, HEAD and OPTIONS, with CacheControl and If-None-Match
// answered from the ETag h sets; its query is not checked. New panics if
// path is not a path template.
func WithPage(path string, h http.Handler) Option {
	return func(c *config) { c.pages[path] = h }
}

// New returns an http.Handler that serves the REST/JSON API of srv, not nil.
func New(srv tmdbstatusv1.StatusServiceServer, opts ...Option) http.Handler {
	cfg := config{maxBodyBytes: DefaultMaxBodyBytes, pages: map[string]http.Handler{}}
	for _, opt := range opts {
		opt(&cfg)
	}
	m := newMarshaler()
	return newHandler(srv, m, m.shared, cfg)
}

// newHandler returns the handler of srv, with marshaler m.
func newHandler(srv tmdbstatusv1.StatusServiceServer, m runtime.Marshaler, shared sharedAnswers, cfg config) http.Handler {
	var mux *runtime.ServeMux // Set by the time a request arrives.
	check := func(next runtime.HandlerFunc) runtime.HandlerFunc { return checkRequest(mux, m, next) }
	mws := append([]runtime.Middleware{probed, check}, cfg.middlewares...)
	mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingError),
		runtime.WithMiddlewares(mws...),
		runtime.WithForwardResponseOption(shared.cacheHeaders),
		// The service reads no metadata, and grpc-gateway logs every header
		// it cannot forward (a non-ASCII User-Agent, say).
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		// Otherwise a form POST to a GET path is served as the GET, and
		// X-HTTP-Method-Override is obeyed: a wrong method must be 405.
		runtime.WithDisablePathLengthFallback(),
	)
	// The generated function only calls mux.Handle and always returns nil.
	if err := tmdbstatusv1.RegisterStatusServiceHandlerServer(context.Background(), mux, srv); err != nil {
		panic(fmt.Sprintf("gateway: register StatusService handlers: %v", err))
	}
	for path, h := range cfg.pages {
		err := mux.HandlePath(http.MethodGet, path, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			w.Header()["Cache-Control"] = cacheControl
			h.ServeHTTP(w, r)
		})
		if err != nil {
			panic(fmt.Sprintf("gateway: page %q: %v", path, err))
		}
	}
	return front(mux, m, cfg.maxBodyBytes)
}
