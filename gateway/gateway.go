// Package gateway serves the REST/JSON API of tmdbstatus.v1.StatusService
// (docs/rest.md) through grpc-gateway's generated handlers, which call a
// StatusServiceServer in-process: no gRPC hop, so no gRPC interceptor runs.
//
// One runtime.ServeMux routes, decodes and renders every request through
// its options, after handler.ServeHTTP has read the body. A request is checked in this
// order: body size (413, 408), route (404, 405), query (400), Content-Type
// (415), path and body decoding (400). The gateway's own errors carry one
// ErrorInfo, quote input cut to 64 bytes and name no address or library.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails" // Types protojson must know.
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

const (
	// DefaultMaxBodyBytes is the largest request body read by default, 4 MiB,
	// as for a grpc-go server's messages.
	DefaultMaxBodyBytes = 4 << 20

	// CacheControl is the Cache-Control of the answers with an ETag: the
	// table is fixed for a build.
	CacheControl = "max-age=300"

	// ErrorCacheControl is the Cache-Control of every error.
	ErrorCacheControl = "no-store"
)

// An Option configures the handler New returns.
type Option func(*config)

type config struct {
	maxBodyBytes int64
	middlewares  []runtime.Middleware
	pages        map[string]http.Handler
}

// WithMiddlewares adds mws to the middlewares the mux runs on a routed
// request, with the handler's ResponseWriter, before the gateway checks its
// query, body type and path parameters.
func WithMiddlewares(mws ...runtime.Middleware) Option {
	return func(c *config) { c.middlewares = append(c.middlewares, mws...) }
}

// WithMaxBodyBytes sets the largest request body, in bytes, the handler
// reads; a longer one is 413, RESOURCE_EXHAUSTED. A negative n counts as 0.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBodyBytes = max(n, 0) }
}

// WithPage serves h at path, such as "/", for GET, HEAD and OPTIONS, with
// CacheControl and If-None-Match answered from the ETag h sets. New panics
// if path is not a path template.
func WithPage(path string, h http.Handler) Option {
	return func(c *config) { c.pages[path] = h }
}

// New returns an http.Handler that serves the REST/JSON API of srv, not nil.
func New(srv tmdbstatusv1.StatusServiceServer, opts ...Option) http.Handler {
	cfg := config{maxBodyBytes: DefaultMaxBodyBytes, pages: map[string]http.Handler{}}
	for _, opt := range opts {
		opt(&cfg)
	}
	m := sharedMarshaler()
	return newHandler(srv, m, m.shared, cfg)
}

// sharedMarshaler is the marshaler of every handler of the process, built
// once: it only reads the shared answers after.
var sharedMarshaler = sync.OnceValue(newMarshaler)

// newHandler returns the handler of srv, with marshaler m and the answers
// whose headers it sets.
func newHandler(srv tmdbstatusv1.StatusServiceServer, m runtime.Marshaler, shared sharedAnswers, cfg config) http.Handler {
	h := &handler{marshaler: m, limit: cfg.maxBodyBytes}
	mws := append([]runtime.Middleware{markProbe}, cfg.middlewares...)
	h.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingError),
		runtime.WithMiddlewares(append(mws, h.check, answer)...),
		runtime.WithForwardResponseOption(shared.cacheHeaders),
		// The service reads no metadata; grpc-gateway logs a header it cannot forward.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		// Else a form POST to a GET path is served as the GET, not 405.
		runtime.WithDisablePathLengthFallback(),
	)
	// The generated function only calls mux.Handle and always returns nil.
	if err := tmdbstatusv1.RegisterStatusServiceHandlerServer(context.Background(), h.mux, srv); err != nil {
		panic(fmt.Sprintf("gateway: register StatusService handlers: %v", err))
	}
	for path, page := range cfg.pages {
		err := h.mux.HandlePath(http.MethodGet, path, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			w.Header()["Cache-Control"] = cacheControl
			page.ServeHTTP(w, r)
		})
		if err != nil {
			panic(fmt.Sprintf("gateway: page %q: %v", path, err))
		}
	}
	return h
}

// handler is the gateway: its mux, and what it needs to answer before the mux does.
type handler struct {
	mux       *runtime.ServeMux
	marshaler runtime.Marshaler
	limit     int64 // The largest body read.
}

// Header values set on every answer, allocated once.
var (
	nosniff         = []string{"nosniff"}
	cacheControl    = []string{CacheControl}
	errCacheControl = []string{ErrorCacheControl}
)

// ServeHTTP sets nosniff, serves HEAD as GET (net/http drops the body),
// takes out a Content-Type grpc-gateway would log as unparsable, and reads a
// POST's body whole, so that one over the limit is 413, not 400; then the mux
// serves r.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Content-Type-Options"] = nosniff
	if r.Method == http.MethodHead {
		r = r.WithContext(r.Context())
		r.Method = http.MethodGet
	}
	ctype := r.Header.Get("Content-Type")
	if !parsable(r.Header["Content-Type"]) {
		r = r.WithContext(r.Context())
		r.Header = r.Header.Clone()
		r.Header.Del("Content-Type")
	}
	if r.Method != http.MethodPost {
		h.mux.ServeHTTP(w, r)
		return
	}
	var body []byte
	var err error
	if r.ContentLength > h.limit {
		err = &http.MaxBytesError{Limit: h.limit}
	} else if r.ContentLength != 0 { // Short enough, or unknown (-1).
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.limit))
	}
	if err != nil {
		h.fail(w, r, readError(err, h.limit))
		return
	}
	r.Body = newRequestBody(body, ctype)
	h.mux.ServeHTTP(w, r)
}

// fail answers r with err, as the mux does.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	runtime.HTTPError(r.Context(), h.mux, h.marshaler, w, r, err)
}

// parsable reports whether mime.ParseMediaType parses every value.
func parsable(values []string) bool {
	for _, v := range values {
		if v == "application/json" {
			continue
		}
		if _, _, err := mime.ParseMediaType(v); err != nil {
			return false
		}
	}
	return true
}

// answer, the last middleware, wraps the handler's ResponseWriter in an answerWriter.
func answer(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		aw := &answerWriter{ResponseWriter: w}
		if r.Method == http.MethodGet {
			aw.ifNoneMatch = r.Header["If-None-Match"]
		}
		next(aw, r, pathParams)
	}
}

// answerWriter answers a GET whose If-None-Match matches its 200's ETag with
// 304, and keeps write errors (a client gone) from grpc-gateway, which logs them.
type answerWriter struct {
	http.ResponseWriter
	ifNoneMatch []string // nil: not a conditional GET.
	code        int      // The status written, or 0.
}

func (a *answerWriter) WriteHeader(code int) {
	if a.code != 0 {
		return
	}
	h := a.Header()
	if code == http.StatusOK && a.ifNoneMatch != nil && noneMatch(a.ifNoneMatch, h.Get("Etag")) {
		// The 200's validator and cache headers, none of its content.
		code = http.StatusNotModified
		h.Del("Content-Type")
		h.Del("Content-Length")
	}
	a.code = code
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if a.code != http.StatusNotModified {
		_, _ = a.ResponseWriter.Write(p)
	}
	return len(p), nil
}

// Unwrap returns the ResponseWriter a wraps, for http.ResponseController.
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// noneMatch reports whether the If-None-Match values hold "*" or a tag
// weakly equal to etag (RFC 9110, 13.1.2); net/http's parser is not exported.
func noneMatch(values []string, etag string) bool {
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || etag != "" && tag == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
	}
	return false
}

// errorHandler is runtime.DefaultHTTPErrorHandler with ErrorCacheControl,
// where a 400 of grpc-gateway's own (without an ErrorInfo) becomes the
// decoder's status left on the body or a MALFORMED_REQUEST.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	h := w.Header()
	h["Cache-Control"] = errCacheControl
	delete(h, "Etag") // A success's, were it to fail after setting them.
	delete(h, "Content-Length")
	inner, httpStatus := err, 0
	if hs, ok := errors.AsType[*runtime.HTTPStatusError](err); ok {
		inner, httpStatus = hs.Err, hs.HTTPStatus
	}
	st := status.Convert(inner)
	if service.Details(st).ErrorInfo == nil && (st.Code() == codes.InvalidArgument || httpStatus == http.StatusBadRequest) {
		if body, ok := r.Body.(*requestBody); ok && body.fault != nil {
			err = body.fault.Err()
		} else {
			err = malformed(clip(st.Message()), nil, "").Err()
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// errorMux is the mux whose error handler WriteError renders with.
var errorMux = runtime.NewServeMux(runtime.WithErrorHandler(errorHandler))

// WriteError answers r with st as the gateway answers its own errors, for
// a handler around it, such as one that recovers from a panic.
func WriteError(w http.ResponseWriter, r *http.Request, st *status.Status) {
	w.Header()["X-Content-Type-Options"] = nosniff
	runtime.HTTPError(r.Context(), errorMux, sharedMarshaler(), w, r, st.Err())
}

// readError is the error of a body not read whole: over limit bytes (413),
// not sent in time (408), or cut short; never net/http's, which names addresses.
func readError(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestEntityTooLarge,
			Err: service.RequestStatus(codes.ResourceExhausted, service.ReasonBodyTooLarge,
				fmt.Sprintf("request body larger than %d bytes", limit),
				map[string]string{"maxBodyBytes": strconv.FormatInt(limit, 10)}, "").Err(),
		}
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestTimeout,
			Err: service.RequestStatus(codes.DeadlineExceeded, service.ReasonMalformedRequest,
				"request body not received within the server's read timeout", nil, "").Err(),
		}
	}
	return malformed("request body could not be read whole", nil, "").Err()
}
