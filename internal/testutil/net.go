package testutil

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// WaitTimeout bounds every wait of a test on a server: for an RPC, or for
// the server to return once stopped.
const WaitTimeout = 10 * time.Second

// Listen listens on a free loopback port, and closes the listener when the
// test ends if its user has not.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen: %v", err)
	}
	t.Cleanup(func() { lis.Close() })
	return lis
}

// FreeAddr returns a loopback address, host:port, that nothing listened on
// a moment ago: for a process to listen on, or for a client to be refused.
func FreeAddr(t testing.TB) string {
	t.Helper()
	lis := Listen(t)
	defer lis.Close()
	return lis.Addr().String()
}

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

// Bufconn serves srv on an in-memory listener and returns a client
// connection to it, plaintext, with opts added. When the test ends it
// closes the connection, stops srv and fails the test if Serve failed.
func Bufconn(t testing.TB, srv *grpc.Server, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	dial := func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(dial),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)
	conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
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
