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
package server
