// Command bench is the load benchmark of tmdbstatus. `bench run` (what
// `make bench-load` runs) measures the tmdbstatus binary, run with its
// default flags, against the floors of the frameworks it runs on and
// against grpc-gateway's usual wiring, all in one run, interleaved, on
// loopback; `bench serve -mode M` runs one of those references.
// BENCHMARKS.md describes the method.
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
