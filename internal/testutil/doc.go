// Package testutil holds what the tests of several packages share: the
// tmdbstatus binary, built once per test run and served on loopback
// (BuildBinary, StartServe), loopback and in-memory connections, a buffer a
// process and a test may share (SyncBuffer) and test certificates (NewCA).
//
// BuildBinary is hand-written rather than left to the Go build cache, as
// `go build -o` links anew in every package's process: the binary is kept
// under a hash of what it links, built behind a file lock. It is built with
// -race under -race, from the packages the tests compiled.
package testutil
