package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// A Route is one HTTP rule of the REST API: a method and a path template,
// as a google.api.http annotation of service.proto gives it.
type Route struct {
	Method   string                // "GET", "POST", ...
	Template string                // "/v1/statuses/{code}": the value runtime.HTTPPathPattern returns.
	RPC      protoreflect.FullName // "tmdbstatus.v1.StatusService.Lookup"; "" for a page.

	input protoreflect.MessageType                // The RPC's request type; nil for a page.
	query map[string]protoreflect.FieldDescriptor // The fields it takes as query parameters.
	takes string                                  // "takes only http_status and retry_after".
}

// queryFields are the fields each method takes as query parameters, by
// proto or JSON name: Translate's come from the headers of TMDB's answer.
var queryFields = map[protoreflect.Name][]string{
	"Translate": {"http_status", "retry_after"},
}

// routes are read from the annotations the mux's routes are generated from.
var routes = readRoutes(tmdbstatusv1.File_tmdbstatus_v1_service_proto.Services().ByName("StatusService"))

// Routes returns the HTTP rules of the REST API, in the order of the
// methods of StatusService and their bindings. The slice is a copy.
func Routes() []Route {
	return append([]Route(nil), routes...)
}

// readRoutes returns the routes of the HTTP rules of sd's methods.
func readRoutes(sd protoreflect.ServiceDescriptor) []Route {
	var rs []Route
	methods := sd.Methods()
	for i := range methods.Len() {
		md := methods.Get(i)
		rt := Route{RPC: md.FullName(), query: map[string]protoreflect.FieldDescriptor{}}
		rt.input, _ = protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName()) // Registered by gen.
		names := queryFields[md.Name()]
		for _, name := range names {
			fd := md.Input().Fields().ByName(protoreflect.Name(name))
			rt.query[name], rt.query[fd.JSONName()] = fd, fd
		}
		rt.takes = "takes only " + strings.Join(names, " and ")
		if names == nil {
			rt.takes = "takes no query parameter"
		}
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		for _, rule := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
			// The field set in the oneof pattern is the method: get, put, post, ...
			pattern := rule.ProtoReflect()
			fd := pattern.WhichOneof(pattern.Descriptor().Oneofs().ByName("pattern"))
			if fd == nil || fd.Kind() != protoreflect.StringKind {
				continue // None, or custom.
			}
			rt.Method, rt.Template = strings.ToUpper(string(fd.Name())), pattern.Get(fd).String()
			rs = append(rs, rt)
		}
	}
	return rs
}

// Template returns the path template of p as a Route writes it:
// "/v1/statuses/{code}" for grpc-gateway's "/v1/statuses/{code=*}".
func Template(p runtime.Pattern) string {
	return strings.ReplaceAll(p.String(), "=*}", "}")
}

// routeOf returns the route of method and p, or a Route without input for a page.
func routeOf(method string, p runtime.Pattern) *Route {
	template := Template(p)
	for i, rt := range routes {
		if rt.Method == method && rt.Template == template {
			return &routes[i]
		}
	}
	return &Route{}
}

// markProbe is the first middleware: it marks a probe routed and ends it.
func markProbe(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		if p, ok := w.(*probe); ok {
			p.routed = true
			return
		}
		next(w, r, pathParams)
	}
}

// check, the middleware after the handler's own, refuses a bad query, a POST
// whose body is not read as JSON (415), or a path parameter that does not
// parse.
func (h *handler) check(next runtime.HandlerFunc) runtime.HandlerFunc {
	var route atomic.Pointer[Route] // This route, once known.
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rt := route.Load()
		if rt == nil {
			p, _ := runtime.HTTPPattern(r.Context())
			rt = routeOf(r.Method, p)
			route.Store(rt)
		}
		if err := rt.check(w, r, pathParams); err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r, pathParams)
	}
}

// check returns the error of r, routed to rt, or nil.
func (rt *Route) check(w http.ResponseWriter, r *http.Request, pathParams map[string]string) error {
	if rt.input == nil { // A page ignores its query, as web pages do.
		return nil
	}
	body, _ := r.Body.(*requestBody) // A POST's.
	if r.URL.RawQuery != "" {
		msg, err := rt.readQuery(r.URL.RawQuery)
		if err != nil {
			return err
		}
		if body != nil {
			body.query = msg
		}
	}
	if body != nil && !readsAsJSON(body) {
		w.Header().Set("Accept-Post", "application/json")
		ctype := clip(body.contentType)
		return &runtime.HTTPStatusError{
			HTTPStatus: http.StatusUnsupportedMediaType,
			Err: malformed(fmt.Sprintf("Content-Type %q is not application/json", ctype),
				map[string]string{"contentType": ctype}, "").Err(),
		}
	}
	for name, value := range pathParams {
		fd := rt.input.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.Kind() != protoreflect.Int32Kind {
			continue
		}
		if _, err := runtime.Int32(value); err != nil {
			value = clip(value)
			msg := fmt.Sprintf("%s %q is not an integer", name, value)
			if errors.Is(err, strconv.ErrRange) {
				msg = fmt.Sprintf("%s %q is out of range", name, value)
			}
			return malformed(msg, map[string]string{name: value}, name).Err()
		}
	}
	return nil
}

// readsAsJSON reports whether body is read as JSON: Content-Type
// application/json, whatever its parameters, none, or what `curl -d '{...}'`
// sends, application/x-www-form-urlencoded with an empty body or an object.
func readsAsJSON(body *requestBody) bool {
	mt, _, _ := strings.Cut(body.contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "", "application/json":
		return true
	case "application/x-www-form-urlencoded":
		data := bytes.TrimLeft(body.data, " \t\r\n")
		return len(data) == 0 || data[0] == '{'
	}
	return false
}

// readQuery returns the message the parameters of rawQuery set, or an error
// naming the first, in sorted order, that rt does not take or grpc-gateway
// does not parse.
func (rt *Route) readQuery(rawQuery string) (proto.Message, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, malformed("the query string is not well formed", nil, "").Err()
	}
	var msg proto.Message
	for _, key := range slices.Sorted(maps.Keys(values)) {
		fd, ok := rt.query[key]
		if !ok {
			key = clip(key)
			return nil, malformed(fmt.Sprintf("unknown query parameter %q: %s %s %s", key, rt.Method, rt.Template, rt.takes),
				map[string]string{"parameter": key}, "").Err()
		}
		name, vals := string(fd.Name()), values[key]
		md := map[string]string{"parameter": name}
		if len(vals) > 1 && !fd.IsList() {
			return nil, malformed(fmt.Sprintf("query parameter %s is given %d times; want once", name, len(vals)), md, name).Err()
		}
		if msg == nil {
			msg = rt.input.New().Interface()
		}
		if runtime.PopulateQueryParameters(msg, url.Values{name: vals}, utilities.NewDoubleArray(nil)) != nil {
			return nil, malformed(fmt.Sprintf("query parameter %s: invalid value for %s (%s)", clip(key), name, typeName(fd)), md, name).Err()
		}
	}
	return msg, nil
}

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

// probe is the ResponseWriter of allowed's requests, which handler.check
// marks routed instead of serving.
type probe struct {
	header http.Header
	routed bool
}

func (p *probe) Header() http.Header         { return p.header }
func (p *probe) Write(b []byte) (int, error) { return len(b), nil }
func (p *probe) WriteHeader(int)             {}

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
	return strings.ToValidUTF8(s[:maxEcho], "") + "..."
}
