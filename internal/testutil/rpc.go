package testutil

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// WaitTimeout bounds every wait of a test on a server: for an RPC, or for
// the server to return once stopped.
const WaitTimeout = 10 * time.Second

// Dial returns a plaintext gRPC client of addr, closed when the test ends.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Context returns a context of the test that ends after WaitTimeout.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), WaitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// WaitDone waits for what, a server's run function, to send its result on
// done after it was stopped, and fails the test unless that is nil.
func WaitDone(t testing.TB, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s = %v after cancel; want nil", what, err)
		}
	case <-time.After(WaitTimeout):
		t.Fatalf("%s still running %v after cancel", what, WaitTimeout)
	}
}
