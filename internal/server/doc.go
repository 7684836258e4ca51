// Package server builds and runs the servers of `tmdbstatus serve` from a
// Config: the gRPC server of StatusService (health, reflection, metrics,
// request logs, panic recovery, tracing, limits, TLS) and the HTTP servers
// of the REST/JSON gateway and of the admin endpoints (/metrics, /healthz,
// /readyz, pprof). The command parses its flags into a Config and calls Run.
// A new setting is a field of Config, whose tags make its flag, and its
// default in DefaultConfig.
//
// When the context of Run is done, readiness goes false (/readyz 503, gRPC
// health NOT_SERVING); after Config.ShutdownDelay the servers stop
// accepting, health's Watch streams end, and the requests in flight have
// Config.ShutdownGrace to finish. A second signal cuts short the phase it
// comes in: the delay (the drain keeps its grace), or the drain.
//
// Every unary RPC has Config.RequestTimeout from the moment its stream
// opens (a tap), so that a request that never comes frees its stream and
// the drain; a client's earlier deadline still wins. Each port caps its
// open connections so that all fit the open-file limit. What libraries log
// goes through slog, rate limited.
//
// The request logs, the metrics (every child resolved at start-up), the
// REST status recorder and the counting of rejected RPCs are written here
// rather than taken from go-grpc-middleware, promhttp, httpsnoop or a
// grpc.StatsHandler, which cost allocations on every request: the figures
// are in BENCHMARKS.md ("Why the serving stack is hand-written").
package server
