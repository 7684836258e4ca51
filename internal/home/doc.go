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
// Both are built once, from the contract: the table from service.Entries,
// the routes from StatusService's google.api.http annotations, described
// by the OpenAPI description of the same proto. The page inlines page.css
// and page.js and loads nothing else; its Content-Security-Policy allows
// them by their SHA-256 hashes (a hash, unlike a nonce, suits a page that
// never changes). Each answer has a strong ETag of its bytes; the server
// that mounts the handler answers If-None-Match and sets Cache-Control.
package home
