// Package loadtest holds the soak, shutdown-under-load and abuse tests of
// tmdbstatus: each builds the real binary, runs it on loopback, drives it
// over gRPC, REST and raw HTTP/2 frames, and stops by itself. They are slow,
// so they are behind build tags:
//
//	go test -tags soak -count=1 ./loadtest   # make soak; -soak.duration=12s: make soak-short
//	go test -tags abuse -count=1 ./loadtest  # make abuse-short; -abuse.full: make abuse
//
// docs/reliability.md says what each test sends and the limits it holds the
// server to.
package loadtest
