package server

import "github.com/tmdbstatus/tmdbstatus/gen/openapiv2"

// openAPISpec is the OpenAPI (Swagger 2.0) description of the REST API, as
// JSON, that the HTTP server serves at /openapi.json. protoc-gen-openapiv2
// generates it from proto/ (see buf.gen.yaml); the TmdbStatus enum's
// description carries TMDB's table.
var openAPISpec = openapiv2.Spec
