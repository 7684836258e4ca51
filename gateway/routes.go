package gateway

import (
	"net/http"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// A Route is one HTTP rule of the REST API: a method and a path template,
// as a google.api.http annotation of service.proto gives it.
type Route struct {
	Method   string // "GET", "POST", ...
	Template string // "/v1/statuses/{code}": the value runtime.HTTPPathPattern returns.
}

// routes are the HTTP rules of StatusService, read from the annotations
// of service.proto, in the order of its methods. The mux learns its
// routes from the code generated from the same annotations.
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
		rule, _ := proto.GetExtension(methods.Get(i).Options(), annotations.E_Http).(*annotations.HttpRule)
		switch p := rule.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			rs = append(rs, Route{http.MethodGet, p.Get})
		case *annotations.HttpRule_Post:
			rs = append(rs, Route{http.MethodPost, p.Post})
		case *annotations.HttpRule_Put:
			rs = append(rs, Route{http.MethodPut, p.Put})
		case *annotations.HttpRule_Patch:
			rs = append(rs, Route{http.MethodPatch, p.Patch})
		case *annotations.HttpRule_Delete:
			rs = append(rs, Route{http.MethodDelete, p.Delete})
		}
	}
	return rs
}
