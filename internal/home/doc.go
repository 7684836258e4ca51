// Package home serves /, the root of tmdbstatus's HTTP server, as the
// request's Accept header prefers (RFC 9110, section 12.5.1):
//
//   - text/html: a page that says what the service is, shows TMDB's
//     status-code table (each row linkable, as /#25), links to the OpenAPI
//     description and the metrics, and has a form that posts a TMDB answer
//     to Translate and shows the google.rpc.Status it answers;
//   - application/json, for anything else (an Accept it cannot serve
//     included, rather than 406): an index of the REST routes.
//
// Both are built once: the table from service.Entries, the routes from
// gateway.Routes, described by the OpenAPI description of the same proto.
// The page inlines page.css and page.js, which its Content-Security-Policy
// allows by their hashes (a page that never changes needs no nonce). Each
// answer has a strong ETag; the server that mounts the handler answers
// If-None-Match and sets Cache-Control.
package home
