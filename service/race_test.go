//go:build race

package service

// race reports whether the tests run with -race, which makes them several
// times slower.
const race = true
