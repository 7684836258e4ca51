package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

const mainPackage = "github.com/tmdbstatus/tmdbstatus/cmd/tmdbstatus"

var buildOnce = sync.OnceValues(buildBinary)

// BuildBinary returns the path of cmd/tmdbstatus built from this module's
// sources: as it ships (CGO_ENABLED=0), or with -race when the tests run
// with -race. It builds the binary once for every test process of a
// `go test ./...` run, and again only when a package it links changes. The
// tests must not modify the file.
func BuildBinary(t testing.TB) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatalf("build cmd/tmdbstatus: %v", err)
	}
	return bin
}

// buildBinary builds the binary into the user's cache folder, named by the
// content of every package it links, unless a process built it already; a
// lock on the folder makes concurrent processes wait for the one build.
func buildBinary() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "tmdbstatus-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close() // Releases the lock.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	removeStale(dir)

	mode, env := "-race=false", append(os.Environ(), "CGO_ENABLED=0")
	if raceEnabled() {
		mode, env = "-race", os.Environ()
	}
	// The build cache names each package's export data by its content.
	exports, err := goCommand(env, "list", mode, "-export", "-deps", "-f", "{{.Export}}", mainPackage)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(exports)
	bin := filepath.Join(dir, "tmdbstatus-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		return bin, os.Chtimes(bin, now, now) // Not stale while in use.
	}
	if _, err := goCommand(env, "build", mode, "-o", bin+".tmp", mainPackage); err != nil {
		return "", err
	}
	return bin, os.Rename(bin+".tmp", bin)
}

// goCommand runs the go command with args and env and returns its output.
func goCommand(env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Env = env
	out, err := cmd.Output()
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		return nil, fmt.Errorf("go %s: %w\n%s", args[0], err, exit.Stderr)
	}
	return out, err
}

// removeStale removes the binaries that no test asked for within an hour:
// those of older sources.
func removeStale(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "tmdbstatus-*"))
	for _, f := range old {
		if fi, err := os.Stat(f); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(f)
		}
	}
}

// raceEnabled reports whether the tests run with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	return ok && slices.Contains(info.Settings, debug.BuildSetting{Key: "-race", Value: "true"})
}
