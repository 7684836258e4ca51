// Package server builds and runs the servers of `tmdbstatus serve`, exactly
// as the binary runs them, from a Config: the gRPC server of StatusService
// (with health, reflection, metrics, request logs, panic recovery, tracing,
// keepalive and message limits, TLS) and the HTTP servers of the REST/JSON
// gateway and of the admin endpoints (/metrics, /healthz, /readyz). It is
// the one place of the module that assembles a serving stack: the command
// parses its flags into a Config and calls Run, and the load benchmark
// measures the binary built from it.
//
// A new setting is one field of Config, its default in DefaultConfig and
// the constants beside it, and its flag in the command.
//
// # Shutdown
//
// When the context of Run is done, readiness goes false (/readyz answers
// 503, gRPC health NOT_SERVING), and after Config.ShutdownDelay the
// servers stop accepting, health's Watch streams end, and the requests in
// flight have Config.ShutdownGrace to finish before they are cut. A second
// signal cuts short the phase it comes in: the delay (the drain then has
// its grace), or the drain (its requests are cut at once).
//
// # Limits
//
// Every gRPC connection is bounded (Config.MaxConcurrentStreams,
// MaxHeaderListBytes, ConnectionTimeout, MaxConnectionIdle), every unary
// RPC has Config.RequestTimeout from the moment its stream opens (a tap,
// so that a stream whose request never comes ends too), and each port caps
// its open connections so that all of them fit the open-file limit with
// room to spare: a flood on one port leaves the others, and the admin
// port's probes, their files. What libraries log on a client's behalf goes
// through slog, a few lines a second at most.
//
// # Hand-written, and why
//
// The request logs are the observer's, not go-grpc-middleware's logging
// interceptor: that one builds its fields, a timestamp and a context for
// every call whatever the level (45 allocations and 2.5 KiB more a Lookup
// at info, where ours builds nothing). The REST status recorder is one
// small type, not httpsnoop.Wrap (8 allocations more a request). The
// metrics are ours too (see metrics.go). Request logs carry the gRPC code's
// name or the HTTP status as a number, and the duration in seconds; Run's
// last line is "stopped", with its error or the cause of the shutdown.
//
// # Rejected RPCs
//
// tmdbstatus_grpc_rejected_total counts, by reason, the RPCs grpc-go
// refuses before their handler, with no per-RPC cost on the RPCs it
// serves: a grpc.StatsHandler would see them all, but with one installed
// grpc-go builds its events for every RPC (18 allocations and 1.2 KiB more
// a Lookup, measured). Instead the unknown-service handler counts unknown
// methods, and each unary method's handler is wrapped to look at the error
// it returns: one without details is grpc-go's, from decoding the request
// (the handlers' own errors carry their ErrorInfo). Not counted: a
// grpc-encoding grpc-go lacks and a malformed method name, which it refuses
// before any hook but a stats handler.
package server
