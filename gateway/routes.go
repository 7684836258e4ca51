package gateway

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// A Route is one HTTP rule of the REST API: a method and a path template,
// as a google.api.http annotation of service.proto gives it.
type Route struct {
	Method   string // "GET", "POST", ...
	Template string // "/v1/statuses/{code}": the value runtime.HTTPPathPattern returns.

	input protoreflect.MessageType                // The RPC's request type; nil for a page.
	query map[string]protoreflect.FieldDescriptor // The fields it takes as query parameters.
	takes string                                  // "takes only http_status and retry_after".
}

// queryFields are the request fields each method also takes as query
// parameters, by proto name (the JSON name is taken too): Translate's come
// from the headers of TMDB's answer, so that its body can be posted as it
// came. Any other parameter, on any route, is an error.
var queryFields = map[protoreflect.Name][]protoreflect.Name{
	"Translate": {"http_status", "retry_after"},
}

// routes are the HTTP rules of StatusService, read from the annotations
// of service.proto, from which the mux's routes are generated too.
var routes = readRoutes()

// Routes returns the HTTP rules of the REST API, in the order of the
// methods of StatusService. The slice is a copy.
func Routes() []Route {
	return append([]Route(nil), routes...)
}

func readRoutes() []Route {
	var rs []Route
	methods := tmdbstatusv1.File_tmdbstatus_v1_service_proto.Services().ByName("StatusService").Methods()
	for i := range methods.Len() {
		md := methods.Get(i)
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		rt := Route{query: map[string]protoreflect.FieldDescriptor{}, takes: "takes no query parameter"}
		switch p := rule.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			rt.Method, rt.Template = http.MethodGet, p.Get
		case *annotations.HttpRule_Post:
			rt.Method, rt.Template = http.MethodPost, p.Post
		case *annotations.HttpRule_Put:
			rt.Method, rt.Template = http.MethodPut, p.Put
		case *annotations.HttpRule_Patch:
			rt.Method, rt.Template = http.MethodPatch, p.Patch
		case *annotations.HttpRule_Delete:
			rt.Method, rt.Template = http.MethodDelete, p.Delete
		default:
			continue
		}
		var err error
		if rt.input, err = protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName()); err != nil {
			panic(fmt.Sprintf("gateway: the request type of %s: %v", md.FullName(), err))
		}
		var names []string
		for _, name := range queryFields[md.Name()] {
			fd := md.Input().Fields().ByName(name)
			rt.query[string(name)], rt.query[fd.JSONName()] = fd, fd
			names = append(names, string(name))
		}
		if names != nil {
			rt.takes = "takes only " + strings.Join(names, " and ")
		}
		rs = append(rs, rt)
	}
	return rs
}

// captureVariable matches a variable of a runtime.Pattern's String(),
// "{code=*}", whose name the template writes alone, "{code}".
var captureVariable = regexp.MustCompile(`\{([^=}]+)=\*\}`)

// routeOf returns the route the mux matched with the pattern p for method,
// or a Route without input for a page.
func routeOf(method string, p runtime.Pattern) *Route {
	template := captureVariable.ReplaceAllString(p.String(), "{$1}")
	for i, rt := range routes {
		if rt.Method == method && rt.Template == template {
			return &routes[i]
		}
	}
	return &Route{}
}
