//go:build !race

package testutil

// race reports whether the tests run with -race.
const race = false
