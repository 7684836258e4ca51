package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// TestRoutesMatchProto holds routes equal to the google.api.http
// annotations of service.proto, the routes the mux serves.
func TestRoutesMatchProto(t *testing.T) {
	type route = struct{ method, template string }
	var want []route
	methods := tmdbstatusv1.File_tmdbstatus_v1_service_proto.Services().ByName("StatusService").Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		rule, ok := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
		if !ok || rule == nil {
			t.Fatalf("%s has no google.api.http option", m.FullName())
		}
		if len(rule.GetAdditionalBindings()) > 0 {
			t.Errorf("%s has additional bindings; routes lists only the first", m.FullName())
		}
		switch p := rule.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			want = append(want, route{http.MethodGet, p.Get})
		case *annotations.HttpRule_Post:
			want = append(want, route{http.MethodPost, p.Post})
		case *annotations.HttpRule_Put:
			want = append(want, route{http.MethodPut, p.Put})
		case *annotations.HttpRule_Patch:
			want = append(want, route{http.MethodPatch, p.Patch})
		case *annotations.HttpRule_Delete:
			want = append(want, route{http.MethodDelete, p.Delete})
		default:
			t.Errorf("%s: pattern %v; want get, post, put, patch or delete", m.FullName(), rule.GetPattern())
		}
	}
	if !slices.Equal(routes, want) {
		t.Errorf("routes = %v; want %v, as service.proto has them", routes, want)
	}
	for _, r := range routes {
		if strings.Contains(r.template, "*") || strings.Contains(r.template, "=") {
			t.Errorf("route %s %s has a wildcard or a nested variable; matchTemplate handles neither", r.method, r.template)
		}
	}
}

func TestAllowedMethods(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"/v1/statuses/7", []string{http.MethodGet}},
		{"/v1/statuses/", []string{http.MethodGet}},
		{"/v1/statuses/7:translate", []string{http.MethodGet}},
		{"/v1/statuses", []string{http.MethodGet}},
		{"/v1/statuses:translate", []string{http.MethodPost}},
		{"/v1/statuses:translate:translate", nil},
		{"/v1/statuses:explain", nil},
		{"/v1/statuses/7/8", nil},
		{"/v1", nil},
		{"/", nil},
		{"", nil},
		{"v1/statuses", nil},
	}
	for _, tt := range tests {
		if got := allowedMethods(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("allowedMethods(%q) = %q; want %q", tt.path, got, tt.want)
		}
	}
}

func TestRoute(t *testing.T) {
	for path, want := range map[string]string{
		"/v1/statuses":             "/v1/statuses",
		"/v1/statuses/7":           "/v1/statuses/{code}",
		"/v1/statuses/abc":         "/v1/statuses/{code}", // the mux routes it, then fails to parse it
		"/v1/statuses/":            "/v1/statuses/{code}", // an empty segment still matches a variable
		"/v1/statuses:translate":   "/v1/statuses:translate",
		"/v1/statuses/7:translate": "/v1/statuses/{code}",
		"/v1/statuses/7/x":         "",
		"/v1":                      "",
		"/":                        "",
		"":                         "",
		"/v2/statuses":             "",
		"/v1/statuses:translat":    "",
	} {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %q; want %q", path, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Route("/v1/statuses/7") }); n != 0 {
		t.Errorf("Route allocates %v times per call; want 0, it labels every request", n)
	}
	if got, want := Templates(), []string{"/v1/statuses/{code}", "/v1/statuses", "/v1/statuses:translate"}; !slices.Equal(got, want) {
		t.Errorf("Templates() = %q; want %q", got, want)
	}
}
