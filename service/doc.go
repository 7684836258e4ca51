// Package service translates TMDB API answers into canonical gRPC statuses, by TMDB's table
// read from the options of the proto's TmdbStatus enum, and serves the StatusService over them.
// The rules are in docs/mapping.md; the three a Go caller meets most are these:
//
//   - A code in TMDB's table decides, whatever the HTTP status; without one,
//     the HTTP status does, by its meaning in google/rpc/code.proto.
//   - Every retryable translation carries exactly one RetryInfo and no other
//     does, so IsRetryable and RetryDelay read only that detail.
//   - No message or metadata value holds a credential; RedactURL does the
//     same to the URL an http.Client puts into its errors.
package service
