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

// Templates returns the path templates of the REST API, in the order of
// its routes, without repeats: the values Route returns.
func Templates() []string {
	var ts []string
	for _, r := range routes {
		if !slices.Contains(ts, r.template) {
			ts = append(ts, r.template)
		}
	}
	return ts
}

// Route returns the path template of the REST API that path matches,
// whatever the method, or "" if the API has no such path. It allocates
// nothing, so that it can label every request.
func Route(path string) string {
	for _, r := range routes {
		if matchTemplate(r.template, path) {
			return r.template
		}
	}
	return ""
}

// matchTemplate reports whether path matches template segment by segment:
// a variable segment ("{code}") matches any one segment, even an empty one,
// and any other segment only itself, its ":verb" included. For templates
// without "*" or "**", such as those of routes, that is how grpc-gateway's
// mux matches them in its default unescaping mode.
func matchTemplate(template, path string) bool {
	for {
		want, templateRest, templateMore := strings.Cut(template, "/")
		got, pathRest, pathMore := strings.Cut(path, "/")
		if !strings.HasPrefix(want, "{") && want != got || templateMore != pathMore {
			return false
		}
		if !templateMore {
			return true
		}
		template, path = templateRest, pathRest
	}
}
