// Package home serves the root of tmdbstatus's HTTP server, /, in two
// representations chosen by the request's Accept header (RFC 9110, section
// 12.5.1; Vary: Accept):
//
//   - text/html, for a browser: one page that says what the service is,
//     shows TMDB's whole status-code table (each row linkable by its code,
//     as /#25), links to the OpenAPI description and the metrics, and has a
//     form that posts a TMDB answer to Translate and shows the
//     google.rpc.Status it answers.
//   - application/json, for anything else (it ignores an Accept it cannot
//     serve rather than answer 406): an index of the REST routes, each with
//     its method, path template, RPC and description.
//
// Both are built once, from the contract: the table from service.Entries,
// the routes from StatusService's google.api.http annotations, their
// descriptions from the OpenAPI description of the same proto.
//
// The page is page.html.tmpl with page.css and page.js inlined; it loads
// nothing else. Its Content-Security-Policy allows those two by their
// SHA-256 hashes (a hash, unlike a nonce, suits a page that never changes)
// and fetch to its own origin. The script builds the DOM with textContent.
//
// Each representation carries a strong ETag of its bytes; the server that
// mounts the handler answers If-None-Match and sets Cache-Control.
package home
