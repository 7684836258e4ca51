//go:build race

package testutil

// race reports whether the tests run with -race: then the binary is built
// with -race too, from the packages the tests compiled already.
const race = true
