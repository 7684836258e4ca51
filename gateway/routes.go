package gateway

import (
	"net/http"
	"slices"
	"strings"
)

// routes are the HTTP rules of StatusService, as the google.api.http
// annotations of service.proto give them (a test holds the two equal). The
// mux learns them from the generated code, but does not tell which methods
// a path allows; allowedMethods reads them here.
var routes = []struct{ method, template string }{
	{http.MethodGet, "/v1/statuses/{code}"},
	{http.MethodGet, "/v1/statuses"},
	{http.MethodPost, "/v1/statuses:translate"},
}

// allowedMethods returns the methods of the routes whose template matches
// path, in the order of routes without repeats, or nil if none matches.
func allowedMethods(path string) []string {
	var methods []string
	for _, r := range routes {
		if matchTemplate(r.template, path) && !slices.Contains(methods, r.method) {
			methods = append(methods, r.method)
		}
	}
	return methods
}

// matchTemplate reports whether path matches template segment by segment:
// a variable segment ("{code}") matches any one segment, even an empty one,
// and any other segment only itself, its ":verb" included. For templates
// without "*" or "**", such as those of routes, that is how grpc-gateway's
// mux matches them in its default unescaping mode.
func matchTemplate(template, path string) bool {
	want, got := strings.Split(template, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i, seg := range want {
		if !strings.HasPrefix(seg, "{") && seg != got[i] {
			return false
		}
	}
	return true
}
