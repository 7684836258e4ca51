package gateway

import (
	"fmt"
	"net/http"
	"regexp"

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

	rpc   string                   // "/tmdbstatus.v1.StatusService/Lookup"
	input protoreflect.MessageType // The RPC's request type.
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
		var rt Route
		switch p := rule.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			rt = Route{Method: http.MethodGet, Template: p.Get}
		case *annotations.HttpRule_Post:
			rt = Route{Method: http.MethodPost, Template: p.Post}
		case *annotations.HttpRule_Put:
			rt = Route{Method: http.MethodPut, Template: p.Put}
		case *annotations.HttpRule_Patch:
			rt = Route{Method: http.MethodPatch, Template: p.Patch}
		case *annotations.HttpRule_Delete:
			rt = Route{Method: http.MethodDelete, Template: p.Delete}
		default:
			continue
		}
		rt.rpc = "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
		input, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			panic(fmt.Sprintf("gateway: the request type of %s: %v", md.FullName(), err))
		}
		rt.input = input
		rs = append(rs, rt)
	}
	return rs
}

// captureVariable matches a variable of a runtime.Pattern's String(),
// "{code=*}", whose name the template writes alone, "{code}".
var captureVariable = regexp.MustCompile(`\{([^=}]+)=\*\}`)

// routeOf returns the route of the API the mux matched with the pattern p
// for method, or false for another route (a page).
func routeOf(method string, p runtime.Pattern) (Route, bool) {
	template := captureVariable.ReplaceAllString(p.String(), "{$1}")
	for _, rt := range routes {
		if rt.Method == method && rt.Template == template {
			return rt, true
		}
	}
	return Route{}, false
}
