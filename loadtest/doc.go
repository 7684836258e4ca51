// Package loadtest holds the soak and shutdown-under-load tests of
// tmdbstatus. They build the real binary, run it on loopback and drive it
// over gRPC and REST at once. They are slow, so they are kept out of the
// default test run behind the build tag "soak":
//
//	go test -tags soak -count=1 ./loadtest                        # 60 s soak, 64 clients
//	go test -tags soak -count=1 ./loadtest -soak.duration=12s     # what CI runs
//
// (make soak and make soak-short run the same.) Every test stops by itself:
// the soak after -soak.duration, every request within a deadline, the
// binary killed at the end of each test if it is still running.
//
// The abuse tests, behind the build tag "abuse", attack the binary with
// what one client can send: streams held open, HPACK amplification, idle
// connections up to the file limit, zero-window and Watch streams, rapid
// reset, streams that never send their request, a 4 MB body with a type
// error at its end, a body that stalls. Raw HTTP/2 frames are written with
// x/net/http2's Framer. Each attack holds the server to limits: resident
// memory grows by at most 150 MiB, goroutines by at most 1,000, /healthz,
// /metrics and a Lookup answer within a second throughout, and SIGTERM
// ends it with exit status 0 within the grace:
//
//	go test -tags abuse -count=1 ./loadtest               # CI's sizes, about a minute
//	go test -tags abuse -count=1 ./loadtest -abuse.full   # full sizes, a few minutes
//
// (make abuse-short and make abuse.) A watchdog kills the binary if its
// memory passes 2 GiB; every connection has a deadline.
package loadtest
