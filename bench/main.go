// Command bench is the load benchmark of tmdbstatus: it measures the
// package's serving paths against the floors of the frameworks they run on,
// in one run, interleaved, on loopback.
//
// `bench serve -mode M` runs one of the servers compared (see modes);
// `bench run` (what `make bench-load` runs) starts all of them pinned to one
// core, drives them from another with h2load (gRPC) and wrk (REST), and
// prints the medians of each and their ratios to the floors. The servers are
// built from the packages (service.New, gateway.New, grpc.NewServer), not by
// the tmdbstatus binary: what the binary adds around them (interceptors,
// metrics, logs) is not measured here.
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
