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
package loadtest
