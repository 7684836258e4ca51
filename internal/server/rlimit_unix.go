//go:build unix

package server

import "syscall"

// openFileLimit returns the soft limit of RLIMIT_NOFILE, which Go's
// runtime raises to the hard limit at start.
func openFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return uint64(rl.Cur), err
}
