// Package home serves the root of tmdbstatus's HTTP server, /, in two
// representations chosen by the request's Accept header (RFC 9110, section
// 12.5.1; Vary: Accept):
//
//   - text/html, for a browser: one self-contained page that says what the
//     service is, shows TMDB's whole status-code table (each row linkable by
//     its code, as /#25), links to the OpenAPI description and the metrics,
//     and has a form that posts a TMDB answer to Translate and shows the
//     google.rpc.Status it answers.
//   - application/json, for anything else (no Accept, */*, or a type it
//     cannot serve: it ignores Accept rather than answer 406): an index of
//     the REST routes, each with its method, path template, RPC and
//     description.
//
// Both are built from the contract, once, when the handler is made: the
// table from service.Entries (the proto's TmdbStatus options), the routes
// from the google.api.http annotations of StatusService, and their
// descriptions from the OpenAPI description generated from the same proto's
// comments. Nothing in them can drift from the API they describe.
//
// # The page
//
// The page is html/template output of page.html.tmpl, with its own CSS and
// JavaScript (page.css, page.js) inlined, and no other asset: it loads
// nothing from anywhere. Its Content-Security-Policy allows exactly those
// two inline sources, by their SHA-256 hashes computed when the handler is
// made (a hash, unlike a nonce, can be the same on every answer of a page
// that never changes), fetch to the page's own origin, and nothing else.
// The script builds the answer's DOM with textContent only.
//
// # Caching
//
// Each representation carries a strong ETag, a hash of its bytes, the same
// for every process of one build. The handler sets it but does not answer
// conditional requests (If-None-Match) itself, nor Cache-Control: the
// server that mounts it does that for all its routes in one place.
package home
