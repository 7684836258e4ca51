package home

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// route is one REST route of the API, a google.api.http rule of a
// StatusService method: its HTTP method, path template, the full name of
// the RPC it calls and the RPC's proto comment, on one line.
type route struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	RPC         string `json:"rpc"`
	Description string `json:"description"`
}

// routeIndex is the JSON answer at / for clients that do not ask for HTML.
type routeIndex struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Routes      []route `json:"routes"`
	OpenAPI     string  `json:"openapi"`
	Metrics     string  `json:"metrics,omitempty"`
}

// statusService is the service whose routes / lists.
var statusService = tmdbstatusv1.File_tmdbstatus_v1_service_proto.Services().ByName("StatusService")

// routes returns the REST routes of sd, in the order of its methods and
// their bindings, each described by the summary of its operation in spec,
// the OpenAPI description generated from the same proto (the Go descriptors
// do not carry the proto's comments).
func routes(sd protoreflect.ServiceDescriptor, spec []byte) ([]route, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI description: %w", err)
	}
	summaries := make(map[string]string)
	for _, ops := range doc.Paths {
		for _, op := range ops {
			summaries[op.OperationID] = strings.Join(strings.Fields(op.Summary), " ")
		}
	}
	var rs []route
	for i := range sd.Methods().Len() {
		m := sd.Methods().Get(i)
		rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
		if rule == nil {
			continue // A method without an HTTP rule has no REST route.
		}
		// protoc-gen-openapiv2's default operationId is Service_Method.
		desc, ok := summaries[string(sd.Name())+"_"+string(m.Name())]
		if !ok {
			return nil, fmt.Errorf("the OpenAPI description has no operation for %s", m.FullName())
		}
		for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
			method, path := pattern(r)
			rs = append(rs, route{Method: method, Path: path, RPC: string(m.FullName()), Description: desc})
		}
	}
	return rs, nil
}

// pattern returns the HTTP method and path template of rule.
func pattern(rule *annotations.HttpRule) (method, path string) {
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get
	case *annotations.HttpRule_Put:
		return "PUT", p.Put
	case *annotations.HttpRule_Post:
		return "POST", p.Post
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch
	default:
		return rule.GetCustom().GetKind(), rule.GetCustom().GetPath()
	}
}
