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

// route is one REST route of the API: an HTTP rule of a StatusService
// method, as a google.api.http annotation of service.proto gives it.
type route struct {
	// Method is the HTTP method, such as "GET".
	Method string `json:"method"`
	// Path is the path template, such as "/v1/statuses/{code}".
	Path string `json:"path"`
	// RPC is the full name of the method the route calls, such as
	// "tmdbstatus.v1.StatusService.Lookup".
	RPC string `json:"rpc"`
	// Description is the method's proto comment, on one line.
	Description string `json:"description"`
}

// index is the JSON answer at / for clients that do not ask for HTML.
type index struct {
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
// the OpenAPI description protoc-gen-openapiv2 generated from the same
// proto (the Go descriptors do not carry the proto's comments).
func routes(sd protoreflect.ServiceDescriptor, spec []byte) ([]route, error) {
	summaries, err := operationSummaries(spec)
	if err != nil {
		return nil, err
	}
	var rs []route
	methods := sd.Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		rule, ok := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
		if !ok || rule == nil {
			continue // A method without an HTTP rule has no REST route.
		}
		// protoc-gen-openapiv2's default operationId is Service_Method.
		desc, ok := summaries[string(sd.Name())+"_"+string(m.Name())]
		if !ok {
			return nil, fmt.Errorf("the OpenAPI description has no operation for %s", m.FullName())
		}
		for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
			method, path, err := pattern(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.FullName(), err)
			}
			rs = append(rs, route{Method: method, Path: path, RPC: string(m.FullName()), Description: desc})
		}
	}
	return rs, nil
}

// pattern returns the HTTP method and path template of rule.
func pattern(rule *annotations.HttpRule) (method, path string, err error) {
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get, nil
	case *annotations.HttpRule_Put:
		return "PUT", p.Put, nil
	case *annotations.HttpRule_Post:
		return "POST", p.Post, nil
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete, nil
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch, nil
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath(), nil
	default:
		return "", "", fmt.Errorf("google.api.http rule without a pattern")
	}
}

// operationSummaries returns the summary of each operation of an OpenAPI
// description, by operationId, its lines joined into one.
func operationSummaries(spec []byte) (map[string]string, error) {
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
	return summaries, nil
}
