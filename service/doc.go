// Package service translates TMDB API answers into canonical gRPC statuses,
// and serves the StatusService over that translation.
//
// The table is TMDB's list of status codes, read once at start-up from the
// options of the TmdbStatus enum in the proto, its one source. Go callers use
// it in-process with Lookup, Entries, Translate, Error, FromResponse and
// CheckResponse, and read a status back with Details, IsRetryable and
// RetryDelay; Server's handlers are a thin layer over the same code. The
// rules of the translation are in docs/mapping.md; the three a Go caller
// meets most are these:
//
//   - A code in TMDB's table decides, whatever the HTTP status; without one,
//     the HTTP status does, by its meaning in google/rpc/code.proto.
//   - Every retryable translation carries exactly one RetryInfo and no other
//     does, so IsRetryable and RetryDelay read only that detail.
//   - No message or metadata value holds a credential; RedactURL does the
//     same to the URL an http.Client puts into its errors.
package service
