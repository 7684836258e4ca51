// Package service is tmdbstatus's translation of TMDB API answers into
// canonical gRPC statuses, and the StatusService gRPC server over it.
//
// The table is TMDB's list of status codes, read once at start-up from the
// (tmdbstatus.v1.status) options of the TmdbStatus enum: the proto is its one
// source. Go callers use it in-process with Lookup, Entries, Translate,
// Error, FromResponse and CheckResponse, and read a status's details back
// with Details; the gRPC handlers of Server are a thin layer over the same
// code.
//
// # What arrives from TMDB
//
// TMDB's table is what TMDB documents; its CDN and the proxies in between
// send more, and testdata/responses holds one file per shape, each with its
// translation, run through the Go API, gRPC and REST (in process, and through
// the binary) and decoded by the Node and Python clients. The rules:
//
//   - Every retryable translation carries exactly one RetryInfo: a retryable
//     entry, or without a code in the table an HTTP 429, 502, 503 or 504. Its
//     delay is Retry-After's when given, else the entry's default_retry_delay,
//     else the enum's fallback_retry_delay (both in status.proto, with their
//     reasons). A translation that is not retryable never carries one. So
//     the status alone says whether to retry, and when: IsRetryable and
//     RetryDelay read only its RetryInfo, as clients in any language can.
//   - An entry of TMDB's {"errors": [...]} list names its parameter in the
//     field violation's field when it starts with a lowercase identifier
//     followed by " must ", " is ", " should " or " cannot " (paramOf); other
//     messages name none.
//   - A body, as text or bytes (bytes win), that starts with gzip's magic
//     bytes is inflated to at most 64 KiB first, whatever Content-Encoding
//     says; a body with another encoding (br, deflate, zstd) is not read.
//   - The headers add metadata: "cdn" ("cloudfront") for an X-Cache of
//     "Error from cloudfront" or a Via naming CloudFront, "cdnRequestId"
//     (X-Amz-Cf-Id), and "contentType" for a body that was not TMDB's JSON.
//     Every TMDB answer passes CloudFront, so "cdn" says the CDN answered or
//     relayed the failure; the reason tells which: NO_STATUS_CODE for the
//     CDN's own page or bare status, a TMDB reason for TMDB's body relayed.
//   - A code in the table decides whatever the HTTP status (code 5 with 400
//     is INVALID_PARAMETERS); a code past the table (48, 1000) is
//     UNKNOWN_STATUS_CODE with the gRPC code of the HTTP status; the HTTP
//     status as received is in the metadata either way.
//   - No message or metadata value holds a credential (an api_key,
//     session_id, guest_session_id, request_token, access_token or password
//     parameter, a bearer token): it becomes REDACTED. RedactURL does the
//     same to the URL an http.Client puts into its errors.
//
// # Two nouns
//
// The pipeline has two nouns, the two its users already meet: an Entry is
// what TMDB's table says about a code, and a Translation is what a TMDB
// response means as a gRPC status. The unexported types are those nouns at
// one stage or another, so that a reader learns two words, not five:
//
//   - entry is an Entry with the messages built once for it at start-up
//     (its StatusEntry, its LookupResponse, its translation); the table
//     indexes them by code.
//   - translation is what the rules make of a response, before it is a
//     status: the code, the message and what each detail says. Its status
//     method builds the google.rpc.Status, exactly one ErrorInfo first.
//   - built is a translation built into the forms its callers take: the
//     proto for Server and, for one built once and shared, the
//     *status.Status, its error and the TranslateResponse too. translate
//     returns one, so Translate and Server.Translate share every rule.
//
// What reads a request (input, tmdbBody, responseHeaders) is named for what
// it reads, not for the pipeline.
//
// # Files
//
// table.go reads the table from the proto; translate.go holds the rules,
// from a request to a translation and its status; shared.go the
// translations built once and shared (an entry's code alone, an HTTP status
// alone, success), which cost no allocation to hand out; response.go and
// body.go read a request's headers and body; http.go translates an
// *http.Response; details.go reads a status back (Details, IsRetryable,
// RetryDelay); errors.go holds the errors of tmdbstatus itself; server.go
// the gRPC handlers.
//
// A retryable entry's translation with a Retry-After differs from the
// shared one only in its RetryInfo, so withRetryInfo copies the shared
// details and marshals one RetryInfo, as every other detail is marshalled:
// the bytes are protobuf's to write. That costs half a microsecond more
// than hand-written bytes did, on an answer that follows a round trip to
// TMDB (BENCHMARKS.md has the figures).
package service
