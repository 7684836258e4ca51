//go:build !race

package service

// race reports whether the tests run with -race.
const race = false
