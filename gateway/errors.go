package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// malformed returns a MALFORMED_REQUEST error, INVALID_ARGUMENT.
func malformed(msg string, md map[string]string, field string) *status.Status {
	return service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest, msg, md, field)
}

// routingError answers a request the mux has no route for: 404
// ROUTE_NOT_FOUND; for a path with routes, 405 METHOD_NOT_ALLOWED (not
// the 501 of UNIMPLEMENTED) or, to OPTIONS, 204, both with Allow (RFC
// 9110, sections 9.3.7 and 15.5.6); for a target that is not a path, 400.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if ctx.Value(probeKey{}) != nil {
		w.WriteHeader(httpStatus)
		return
	}
	var st *status.Status
	switch httpStatus {
	case http.StatusNotFound:
		st = service.RequestStatus(codes.NotFound, service.ReasonRouteNotFound, http.StatusText(httpStatus), nil, "")
	case http.StatusMethodNotAllowed:
		if allow := allowed(mux, r); allow != "" {
			w.Header().Set("Allow", allow)
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		st = service.RequestStatus(codes.Unimplemented, service.ReasonMethodNotAllowed, http.StatusText(httpStatus), nil, "")
	default: // grpc-gateway's one other routing error: 400.
		st = malformed(http.StatusText(httpStatus), nil, "")
	}
	runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()})
}

// probeKey marks the requests allowed sends to learn which methods the
// mux routes for a path.
type probeKey struct{}

// probed is the first middleware: it answers a probe with 204 as soon as
// the mux has routed it.
func probed(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		if r.Context().Value(probeKey{}) != nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next(w, r, pathParams)
	}
}

// allowed returns the Allow header of the path of r: the methods the mux
// routes for it, HEAD after GET, then OPTIONS; or "". grpc-gateway itself
// matches the routes, on the 405 path alone.
func allowed(mux *runtime.ServeMux, r *http.Request) string {
	var methods []string
	ctx := context.WithValue(r.Context(), probeKey{}, true)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		rec := &codeRecorder{header: http.Header{}}
		mux.ServeHTTP(rec, (&http.Request{Method: m, URL: r.URL, Header: http.Header{}, Body: http.NoBody}).WithContext(ctx))
		if rec.code != http.StatusNoContent {
			continue
		}
		methods = append(methods, m)
		if m == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
	}
	if len(methods) == 0 {
		return ""
	}
	return strings.Join(append(methods, http.MethodOptions), ", ")
}

// codeRecorder is an http.ResponseWriter that keeps only the status code.
type codeRecorder struct {
	header http.Header
	code   int
}

func (c *codeRecorder) Header() http.Header         { return c.header }
func (c *codeRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (c *codeRecorder) WriteHeader(code int)        { c.code = code }

// errorHandler is runtime.DefaultHTTPErrorHandler with ErrorCacheControl,
// without the ETag and length of an answer that failed after its headers
// were set. An error without an ErrorInfo that would be a 400 is one of
// grpc-gateway's own (a body or a Grpc-Timeout that does not decode): it
// becomes MALFORMED_REQUEST, with the status the decoder left on the body
// if there is one. Any other error passes untouched.
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

// readError is the error of a body that could not be read whole: over
// limit bytes (413, RESOURCE_EXHAUSTED, as grpc-go answers a message over
// its limit), not sent in time (408), or cut short; never net/http's, which
// name addresses.
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

// bodyError returns the error of data, a body protojson failed to
// unmarshal into pm, naming the top-level field at fault, the first in
// sorted order, found by unmarshalling each one alone; or nil for a JSON
// object that unmarshals followed by more, of which JSONPb reads the
// object alone.
func (m *jsonMarshaler) bodyError(data []byte, pm proto.Message) *status.Status {
	if bytes.TrimLeft(data, " \t\r\n")[0] != '{' {
		return malformed("request body is not a JSON object", nil, "")
	}
	var members map[string]jsontext.Value
	dec := jsontext.NewDecoder(bytes.NewBuffer(data))
	if err := json.UnmarshalDecode(dec, &members); err != nil {
		if serr, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
			err = serr.Err
		}
		return malformed("request body is not valid JSON: "+clip(err.Error()), nil, "")
	}
	fields := pm.ProtoReflect().Descriptor().Fields()
	seen := map[protoreflect.FieldNumber]bool{}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		fd := fields.ByJSONName(name)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(name))
		}
		switch {
		case fd == nil: // Unknown: ignored.
			continue
		case seen[fd.Number()]: // Each is fine alone: no one field is at fault.
			return malformed("request body: a field is given twice", nil, "")
		case m.UnmarshalOptions.Unmarshal(fmt.Appendf(nil, `{%q:%s}`, fd.JSONName(), members[name]), pm) != nil:
			return malformed(fmt.Sprintf("request body: invalid value for %s (%s)", fd.Name(), typeName(fd)),
				map[string]string{"field": string(fd.Name())}, string(fd.Name()))
		}
		seen[fd.Number()] = true
	}
	if m.UnmarshalOptions.Unmarshal(data[:dec.InputOffset()], pm) != nil {
		return malformed("request body is not valid JSON", nil, "")
	}
	return nil
}

// typeName returns the type of field fd as the proto declares it: "int32",
// "repeated string".
func typeName(fd protoreflect.FieldDescriptor) string {
	if fd.IsList() {
		return "repeated " + fd.Kind().String()
	}
	return fd.Kind().String()
}

// clip returns s cut to 64 bytes, on a rune boundary, with "..." when it
// was cut: an error quotes what it refuses, never all of it.
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
