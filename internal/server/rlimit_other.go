//go:build !unix

package server

import "math"

// openFileLimit returns no limit: the system has no RLIMIT_NOFILE.
func openFileLimit() (uint64, error) { return math.MaxInt32, nil }
