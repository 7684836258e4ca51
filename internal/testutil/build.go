package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// staleAfter is how long a built binary nobody asked for is kept.
const staleAfter = time.Hour

var built struct {
	once sync.Once
	bin  string
	err  error
}

// BuildBinary returns the path of cmd/tmdbstatus built from this module's
// sources: as it ships (CGO_ENABLED=0), or with -race when the tests run
// with -race, which reuses the packages they compiled. It builds the binary once for every
// test process of a `go test ./...` run, and again only when a source file
// or the Go version changes. The tests must not modify the file.
func BuildBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() { built.bin, built.err = buildBinary() })
	if built.err != nil {
		t.Fatalf("build cmd/tmdbstatus: %v", built.err)
	}
	return built.bin
}

// buildBinary builds the binary into the user's cache folder, keyed by the
// hash of the sources, unless a process built it already; a lock on the
// folder makes concurrent processes wait for the one build.
func buildBinary() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	key, err := sourceHash(root)
	if err != nil {
		return "", err
	}
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
	bin := filepath.Join(dir, "tmdbstatus-"+key)
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		return bin, os.Chtimes(bin, now, now) // Not stale while in use.
	}
	cmd := exec.Command("go", "build", "-o", bin+".tmp", "./cmd/tmdbstatus")
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if race {
		cmd = exec.Command("go", "build", "-race", "-o", bin+".tmp", "./cmd/tmdbstatus")
		cmd.Dir = root
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, os.Rename(bin+".tmp", bin)
}

// removeStale removes the binaries of dir that no test asked for within
// staleAfter: those of older sources.
func removeStale(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "tmdbstatus-*"))
	for _, f := range old {
		if fi, err := os.Stat(f); err == nil && time.Since(fi.ModTime()) > staleAfter {
			os.Remove(f)
		}
	}
}

// moduleRoot returns the folder of go.mod, above the working directory of
// the test.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// sourceHash hashes the Go version and every file of the module the binary
// may be built from: all but tests, test data, node_modules and dot-folders.
func sourceHash(root string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s race=%t\n", runtime.Version(), race)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case d.IsDir() && path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "bin"):
			return filepath.SkipDir
		case !d.Type().IsRegular() || strings.HasSuffix(name, "_test.go"):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path[len(root):], len(data))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}
