// Command bench is the load benchmark of tmdbstatus: it measures the
// tmdbstatus binary, as built and run with its default flags, against the
// floors of the frameworks it runs on and against grpc-gateway's usual
// wiring, in one run, interleaved, on loopback.
//
// `bench run` (what `make bench-load` runs) starts the binary (-binary)
// and the references pinned to one core, drives them from another with
// h2load (gRPC) and wrk (REST), and prints the medians of each and their
// ratios to the floors. The binary runs twice: as it ships, and exporting
// its spans over OTLP/gRPC to a collector the benchmark serves on
// loopback, which counts and discards them. `bench serve -mode M` runs
// one of the references: grpc-go's no-op health server, a plain net/http
// handler of fixed JSON, and the REST gateway wired with
// Register...HandlerFromEndpoint (see modes). None of them is tmdbstatus'
// serving stack, which only internal/server assembles.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench run [flags] | bench serve -mode MODE [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runMain(os.Args[2:])
	case "serve":
		err = serveMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want run or serve", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
