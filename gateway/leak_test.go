package gateway_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine they started, an
// httptest server's or a client connection's among them, is still running at
// the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
