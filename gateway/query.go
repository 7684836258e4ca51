package gateway

import (
	"bytes"
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
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// checkRequest is the middleware that refuses, in this order, a query
// parameter the route does not take or whose value does not parse, a POST
// whose body is not read as JSON (415), and a path parameter that does not
// parse. It keeps the fields the query sets on the requestBody, for the
// decoder.
func checkRequest(mux *runtime.ServeMux, m runtime.Marshaler, next runtime.HandlerFunc) runtime.HandlerFunc {
	var route atomic.Pointer[Route] // This route, once known.
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rt := route.Load()
		if rt == nil {
			p, _ := runtime.HTTPPattern(r.Context())
			rt = routeOf(r.Method, p)
			route.Store(rt)
		}
		if err := rt.check(w, r, pathParams); err != nil {
			runtime.HTTPError(r.Context(), mux, m, w, r, err)
			return
		}
		next(w, r, pathParams)
	}
}

// check returns the error of r, routed to rt, or nil.
func (rt *Route) check(w http.ResponseWriter, r *http.Request, pathParams map[string]string) error {
	if rt.input == nil { // A page, which ignores its query as web pages do.
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
			Err: service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest,
				fmt.Sprintf("Content-Type %q is not application/json", ctype), map[string]string{"contentType": ctype}, "").Err(),
		}
	}
	for name, value := range pathParams {
		fd := rt.input.Descriptor().Fields().ByName(protoreflect.Name(name))
		if _, err := runtime.Int32(value); err != nil && fd != nil && fd.Kind() == protoreflect.Int32Kind {
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

// readsAsJSON reports whether body is read as JSON: a Content-Type of
// application/json (whatever its parameters: JSON is UTF-8), none, or
// application/x-www-form-urlencoded with a body that is empty or starts as
// a JSON object, which is what `curl -d '{...}'` sends.
func readsAsJSON(body *requestBody) bool {
	ctype := body.contentType
	if ctype != "" && ctype != "application/json" {
		mt, _, _ := strings.Cut(ctype, ";")
		ctype = strings.ToLower(strings.TrimSpace(mt))
	}
	switch ctype {
	case "", "application/json":
		return true
	case "application/x-www-form-urlencoded":
		data := bytes.TrimLeft(body.data, " \t\r\n")
		return len(data) == 0 || data[0] == '{'
	}
	return false
}

// readQuery returns the message the query parameters of rawQuery set, or
// an error naming the first one, in sorted order, that rt does not take or
// whose value grpc-gateway's parser does not parse.
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
