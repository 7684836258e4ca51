package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// malformed returns a MALFORMED_REQUEST error, INVALID_ARGUMENT.
func malformed(msg string, md map[string]string, field string) *status.Status {
	return service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest, msg, md, field)
}

// routingError answers a request the mux has no route for: 404; for a path
// with routes, 405 (not UNIMPLEMENTED's 501) or, to OPTIONS, 204, with Allow.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if _, ok := w.(*probe); ok {
		return
	}
	code, reason := codes.InvalidArgument, service.ReasonMalformedRequest // grpc-gateway's 400.
	switch httpStatus {
	case http.StatusNotFound:
		code, reason = codes.NotFound, service.ReasonRouteNotFound
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", allowed(mux, r))
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		code, reason = codes.Unimplemented, service.ReasonMethodNotAllowed
	}
	st := service.RequestStatus(code, reason, http.StatusText(httpStatus), nil, "")
	runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()})
}

// allowed returns the Allow header of the path of r: the methods the mux
// routes for it, asked of the mux itself with a probe for each.
func allowed(mux *runtime.ServeMux, r *http.Request) string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		p := &probe{header: http.Header{}}
		mux.ServeHTTP(p, &http.Request{Method: m, URL: r.URL, Header: http.Header{}, Body: http.NoBody})
		if !p.routed {
			continue
		}
		methods = append(methods, m)
		if m == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
	}
	return strings.Join(append(methods, http.MethodOptions), ", ")
}

// probe is the ResponseWriter of allowed's requests, which checkRequest
// marks routed instead of serving.
type probe struct {
	header http.Header
	routed bool
}

func (p *probe) Header() http.Header         { return p.header }
func (p *probe) Write(b []byte) (int, error) { return len(b), nil }
func (p *probe) WriteHeader(int)             {}

// errorHandler is runtime.DefaultHTTPErrorHandler with ErrorCacheControl,
// where a 400 of grpc-gateway's own (without an ErrorInfo) becomes the
// decoder's status left on the body or a MALFORMED_REQUEST.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	h := w.Header()
	h["Cache-Control"] = errCacheControl
	delete(h, "Etag")
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

// typeName returns the type of fd as the proto declares it: "repeated string".
func typeName(fd protoreflect.FieldDescriptor) string {
	if fd.IsList() {
		return "repeated " + fd.Kind().String()
	}
	return fd.Kind().String()
}

// clip returns s cut to 64 bytes on a rune boundary, with "..." if cut.
func clip(s string) string {
	const maxEcho = 64
	if len(s) <= maxEcho {
		return s
	}
	n := maxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
