package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// queryFields are the request fields each RPC also takes as query
// parameters, by proto name; a parameter may be given by its JSON name
// too, as in a body. Translate takes those a caller knows from the
// headers of TMDB's answer rather than its body, so that the body can be
// posted as TMDB sent it. Any other parameter, on any route, is an error.
var queryFields = map[string][]protoreflect.Name{
	tmdbstatusv1.StatusService_Translate_FullMethodName: {"http_status", "retry_after"},
}

// queryRule is what one route accepts in its query.
type queryRule struct {
	route  string                                  // "POST /v1/statuses:translate", for messages.
	fields map[string]protoreflect.FieldDescriptor // By proto and JSON name.
	names  string                                  // "http_status and retry_after", or "".
	input  protoreflect.MessageType                // nil: no field.
	page   bool                                    // Not a route of the API: its query is not checked.
}

// checkQuery refuses a request whose query has a parameter its route does
// not take, with MALFORMED_REQUEST naming it, and reads those it takes
// into a message of the route's request type, which the decoder merges
// into the request's body (fields of the body win). A request without a
// query costs one comparison.
func checkQuery(mux *runtime.ServeMux, m runtime.Marshaler) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		var rule atomic.Pointer[queryRule] // The rule of this route, once known.
		return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
			if r.URL.RawQuery == "" {
				next(w, r, pathParams)
				return
			}
			qr := rule.Load()
			if qr == nil {
				qr = ruleOf(r)
				rule.Store(qr)
			}
			if qr.page { // A page ignores its query, as web pages do.
				next(w, r, pathParams)
				return
			}
			msg, err := qr.read(r.URL.RawQuery)
			if err != nil {
				writeError(mux, m, w, r, err)
				return
			}
			if body, ok := r.Body.(*requestBody); ok && msg != nil {
				body.query = msg
			}
			next(w, r, pathParams)
		}
	}
}

// ruleOf returns the query rule of the route r was routed to.
func ruleOf(r *http.Request) *queryRule {
	p, _ := runtime.HTTPPattern(r.Context())
	rt, ok := routeOf(r.Method, p)
	if !ok {
		return &queryRule{page: true}
	}
	qr := &queryRule{route: rt.Method + " " + rt.Template, fields: map[string]protoreflect.FieldDescriptor{}}
	names := queryFields[rt.rpc]
	if len(names) == 0 {
		return qr
	}
	qr.input = rt.input
	var quoted []string
	for _, name := range names {
		fd := rt.input.Descriptor().Fields().ByName(name)
		qr.fields[string(fd.Name())] = fd
		qr.fields[fd.JSONName()] = fd
		quoted = append(quoted, string(name))
	}
	qr.names = strings.Join(quoted, " and ")
	return qr
}

// read returns the message the query parameters of rawQuery set, or an
// error naming the first one that the route does not take or whose value
// does not parse.
func (qr *queryRule) read(rawQuery string) (proto.Message, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, malformed("the query string is not well formed", nil, "").Err()
	}
	var msg proto.Message
	for key := range strings.SplitSeq(rawQuery, "&") {
		key, _, _ = strings.Cut(key, "=")
		key, _ = url.QueryUnescape(key) // ParseQuery has unescaped it already.
		vals, seen := values[key]
		if !seen {
			continue // Read already, or an empty element ("a=1&&b=2").
		}
		delete(values, key)
		fd, ok := qr.fields[key]
		if !ok {
			return nil, qr.unknown(key)
		}
		if msg == nil {
			msg = qr.input.New().Interface()
		}
		if err := setQueryField(msg, fd, key, vals); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// unknown is the error of the query parameter name, which the route does
// not take.
func (qr *queryRule) unknown(name string) error {
	takes := "takes no query parameter"
	if qr.names != "" {
		takes = "takes only " + qr.names
	}
	name = clip(name)
	return malformed(fmt.Sprintf("unknown query parameter %q: %s %s", name, qr.route, takes),
		map[string]string{"parameter": name}, "").Err()
}

// setQueryField sets the field fd of msg to vals, the values of the query
// parameter key, with grpc-gateway's own query parser.
func setQueryField(msg proto.Message, fd protoreflect.FieldDescriptor, key string, vals []string) error {
	name := string(fd.Name())
	if len(vals) > 1 && !fd.IsList() {
		return malformed(fmt.Sprintf("query parameter %s is given %d times; want once", name, len(vals)),
			map[string]string{"parameter": name}, name).Err()
	}
	err := runtime.PopulateQueryParameters(msg, url.Values{name: vals}, utilities.NewDoubleArray(nil))
	if err != nil {
		return malformed(fmt.Sprintf("query parameter %s: invalid value for %s (%s)", clip(key), name, typeName(fd)),
			map[string]string{"parameter": name}, name).Err()
	}
	return nil
}

// maxEcho is the most bytes of a client's input an error quotes.
const maxEcho = 64

// clip returns s cut to maxEcho bytes, on a rune boundary, with "..."
// when it was cut: an error quotes what it refuses, never all of it.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	n := maxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
