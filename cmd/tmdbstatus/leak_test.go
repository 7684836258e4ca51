package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// TestServeLeaksNoGoroutine runs `tmdbstatus serve` through run, as main
// does, serves requests over both protocols, stops it, and checks that no
// goroutine it started is left: servers, connections, health and
// observability all stop with it.
func TestServeLeaksNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	grpcAddr, httpAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	log := new(testutil.SyncBuffer)
	go func() {
		done <- runCmd(ctx, []string{"serve", "--grpc-addr=" + grpcAddr, "--http-addr=" + httpAddr}, io.Discard, log)
	}()

	// Dialled before the port is open, the client would back off for a second.
	waitForLog(t, log, regexp.MustCompile(`msg="gRPC server listening"`))
	waitForLog(t, log, listeningRE)
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	health := healthpb.NewHealthClient(conn)
	for deadline := time.Now().Add(testutil.WaitTimeout); ; time.Sleep(10 * time.Millisecond) {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		resp, err := health.Check(rctx, &healthpb.HealthCheckRequest{})
		rcancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			conn.Close()
			t.Fatalf("server not serving after %v: %v\n%s", testutil.WaitTimeout, err, log)
		}
	}
	client := tmdbstatusv1.NewStatusServiceClient(conn)
	httpClient := &http.Client{Transport: &http.Transport{}}
	for code := int32(1); code <= 47; code++ {
		if _, err := client.Lookup(testutil.Context(t), &tmdbstatusv1.LookupRequest{Code: code}); err != nil {
			t.Errorf("Lookup(%d): %v", code, err)
		}
		resp, err := httpClient.Get("http://" + httpAddr + "/v1/statuses/7")
		if err != nil {
			t.Fatalf("GET /v1/statuses/7: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v1/statuses/7 = HTTP %d; want 200", resp.StatusCode)
		}
	}
	conn.Close()
	httpClient.CloseIdleConnections()

	cancel()
	testutil.WaitDone(t, "run(serve)", done)
}
