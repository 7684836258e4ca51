package gateway

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// TestReadRoutesAdditionalBindings checks that a method's additional
// bindings are routes of their own, after its main rule, and that a custom
// pattern is none.
func TestReadRoutesAdditionalBindings(t *testing.T) {
	rule := &annotations.HttpRule{
		Pattern: &annotations.HttpRule_Get{Get: "/v2/codes/{code}"},
		AdditionalBindings: []*annotations.HttpRule{
			{Pattern: &annotations.HttpRule_Post{Post: "/v2/codes:lookup"}, Body: "*"},
			{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "SEARCH", Path: "/v2/codes"}}},
			{Pattern: &annotations.HttpRule_Delete{Delete: "/v2/old/{code}"}},
		},
	}
	opts := &descriptorpb.MethodOptions{}
	proto.SetExtension(opts, annotations.E_Http, rule)
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("test/bindings.proto"),
		Package:    proto.String("test"),
		Dependency: []string{"tmdbstatus/v1/service.proto"},
		Syntax:     proto.String("proto3"),
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("Codes"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name:       proto.String("Lookup"),
				InputType:  proto.String(".tmdbstatus.v1.LookupRequest"),
				OutputType: proto.String(".tmdbstatus.v1.LookupResponse"),
				Options:    opts,
			}},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	type route struct{ Method, Template, RPC, Input string }
	var got []route
	for _, rt := range readRoutes(fd.Services().ByName("Codes")) {
		got = append(got, route{rt.Method, rt.Template, string(rt.RPC), string(rt.input.Descriptor().FullName())})
	}
	const rpc, input = "test.Codes.Lookup", "tmdbstatus.v1.LookupRequest"
	want := []route{
		{"GET", "/v2/codes/{code}", rpc, input},
		{"POST", "/v2/codes:lookup", rpc, input},
		{"DELETE", "/v2/old/{code}", rpc, input},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readRoutes mismatch (-want +got):\n%s", diff)
	}
}
