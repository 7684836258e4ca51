// Package testutil holds what the tests of several packages share: the
// tmdbstatus binary, built once per test run and served on loopback
// (BuildBinary, StartServe), loopback and in-memory connections (Listen,
// FreeAddr, Bufconn), a buffer a process and a test may share (SyncBuffer)
// and test certificates (NewCA).
//
// BuildBinary is hand-written rather than left to the Go build cache: `go
// build -o` links anew in every package's process, and concurrent cold
// builds each compile the whole non-race graph, so the binary is kept under
// a hash of the module's sources and built behind a file lock. Under -race
// it is built with -race, from the packages the tests compiled, so a cold
// run compiles the dependencies once rather than twice.
package testutil
