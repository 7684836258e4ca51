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

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// queryFields are the request fields each RPC also takes as query
// parameters, by proto name (the JSON name is taken too): Translate's come
// from the headers of TMDB's answer, so that its body can be posted as it
// came. Any other parameter, on any route, is an error.
var queryFields = map[string][]protoreflect.Name{
	tmdbstatusv1.StatusService_Translate_FullMethodName: {"http_status", "retry_after"},
}

// A rule is what checkRequest knows of one route.
type rule struct {
	route string                                  // "POST /v1/statuses:translate", for messages.
	input protoreflect.MessageType                // The RPC's request type.
	query map[string]protoreflect.FieldDescriptor // By proto and JSON name.
	takes string                                  // "takes only http_status and retry_after".
	page  bool                                    // Not a route of the API: nothing is checked.
}

// checkRequest is the middleware that refuses, in this order, a query
// parameter the route does not take or whose value does not parse, a POST
// whose body is not read as JSON (415), and a path parameter that does not
// parse. It keeps the fields the query sets on the requestBody, for the
// decoder.
func checkRequest(mux *runtime.ServeMux, m runtime.Marshaler, next runtime.HandlerFunc) runtime.HandlerFunc {
	var cached atomic.Pointer[rule] // This route's, once known.
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rl := cached.Load()
		if rl == nil {
			rl = ruleOf(r)
			cached.Store(rl)
		}
		if err := rl.check(w, r, pathParams); err != nil {
			runtime.HTTPError(r.Context(), mux, m, w, r, err)
			return
		}
		next(w, r, pathParams)
	}
}

// ruleOf returns the rule of the route r was routed to.
func ruleOf(r *http.Request) *rule {
	p, _ := runtime.HTTPPattern(r.Context())
	rt, ok := routeOf(r.Method, p)
	if !ok {
		return &rule{page: true}
	}
	rl := &rule{route: rt.Method + " " + rt.Template, input: rt.input, query: map[string]protoreflect.FieldDescriptor{}}
	var names []string
	for _, name := range queryFields[rt.rpc] {
		fd := rt.input.Descriptor().Fields().ByName(name)
		rl.query[string(name)] = fd
		rl.query[fd.JSONName()] = fd
		names = append(names, string(name))
	}
	rl.takes = "takes no query parameter"
	if names != nil {
		rl.takes = "takes only " + strings.Join(names, " and ")
	}
	return rl
}

// check returns the error of r, routed to rl's route, or nil.
func (rl *rule) check(w http.ResponseWriter, r *http.Request, pathParams map[string]string) error {
	if rl.page {
		return nil
	}
	body, _ := r.Body.(*requestBody) // A POST's.
	if r.URL.RawQuery != "" {
		msg, err := rl.read(r.URL.RawQuery)
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
		fd := rl.input.Descriptor().Fields().ByName(protoreflect.Name(name))
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

// read returns the message the query parameters of rawQuery set, or an
// error naming the first one, in sorted order, that the route does not
// take or whose value grpc-gateway's parser does not parse.
func (rl *rule) read(rawQuery string) (proto.Message, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, malformed("the query string is not well formed", nil, "").Err()
	}
	var msg proto.Message
	for _, key := range slices.Sorted(maps.Keys(values)) {
		fd, ok := rl.query[key]
		if !ok {
			key = clip(key)
			return nil, malformed(fmt.Sprintf("unknown query parameter %q: %s %s", key, rl.route, rl.takes),
				map[string]string{"parameter": key}, "").Err()
		}
		name, vals := string(fd.Name()), values[key]
		md := map[string]string{"parameter": name}
		if len(vals) > 1 && !fd.IsList() {
			return nil, malformed(fmt.Sprintf("query parameter %s is given %d times; want once", name, len(vals)), md, name).Err()
		}
		if msg == nil {
			msg = rl.input.New().Interface()
		}
		if runtime.PopulateQueryParameters(msg, url.Values{name: vals}, utilities.NewDoubleArray(nil)) != nil {
			return nil, malformed(fmt.Sprintf("query parameter %s: invalid value for %s (%s)", clip(key), name, typeName(fd)), md, name).Err()
		}
	}
	return msg, nil
}
