package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// waitForLog waits until the log holds a match of re and returns the
// match's submatches.
func waitForLog(t *testing.T, log *testutil.SyncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(testutil.WaitTimeout)
	for {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("log has no match of %v after %v:\n%s", re, testutil.WaitTimeout, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startServe runs serve on two loopback listeners until the returned
// cancel is called; serve's result is then sent on the returned channel.
func startServe(t *testing.T) (grpcAddr, httpAddr string, log *testutil.SyncBuffer, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	grpcLis, httpLis := testutil.Listen(t), testutil.Listen(t)
	log = new(testutil.SyncBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1) // The test may read it.
	finished := make(chan struct{})
	go func() {
		errc <- serve(ctx, DefaultConfig(), serveOptions{
			logger:  slog.New(slog.NewTextHandler(log, nil)),
			grpcLis: grpcLis,
			httpLis: httpLis,
		})
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(testutil.WaitTimeout):
			t.Errorf("serve still running %v after cancel", testutil.WaitTimeout)
		}
	})
	return grpcLis.Addr().String(), httpLis.Addr().String(), log, cancel, errc
}

// listServices asks the reflection service on stream for the services the
// server has.
func listServices(t *testing.T, stream reflectionpb.ServerReflection_ServerReflectionInfoClient) []string {
	t.Helper()
	req := &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}
	if err := stream.Send(req); err != nil {
		t.Fatalf("ServerReflectionInfo: Send(ListServices): %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("ServerReflectionInfo: Recv: %v", err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names
}

func TestServe(t *testing.T) {
	t.Parallel()
	grpcAddr, httpAddr, log, cancel, done := startServe(t)
	conn := testutil.Dial(t, grpcAddr)
	ctx := testutil.Context(t)

	t.Run("Lookup", func(t *testing.T) {
		client := tmdbstatusv1.NewStatusServiceClient(conn)
		resp, err := client.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 7})
		if err != nil {
			t.Fatalf("Lookup(7): %v", err)
		}
		if e := resp.GetEntry(); e.GetReason() != "INVALID_API_KEY" || e.GetGrpcCode() != code.Code_UNAUTHENTICATED {
			t.Errorf("Lookup(7) = %v; want reason INVALID_API_KEY, grpc_code UNAUTHENTICATED", e)
		}

		_, err = client.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 99})
		st := status.Convert(err)
		if st.Code() != codes.NotFound {
			t.Fatalf("Lookup(99) error = %v; want code NotFound", err)
		}
		var reasons []string
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				reasons = append(reasons, info.GetReason())
			}
		}
		if !slices.Equal(reasons, []string{"UNKNOWN_CODE"}) {
			t.Errorf("Lookup(99): ErrorInfo reasons = %q; want [UNKNOWN_CODE]", reasons)
		}
	})

	t.Run("health", func(t *testing.T) {
		client := healthpb.NewHealthClient(conn)
		for _, svc := range []string{"", "tmdbstatus.v1.StatusService"} {
			resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil {
				t.Fatalf("Check(%q): %v", svc, err)
			}
			if got, want := resp.GetStatus(), healthpb.HealthCheckResponse_SERVING; got != want {
				t.Errorf("Check(%q) = %v; want %v", svc, got, want)
			}
		}
	})

	t.Run("reflection", func(t *testing.T) {
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatalf("ServerReflectionInfo: %v", err)
		}
		defer stream.CloseSend()
		got := listServices(t, stream)
		for _, want := range []string{"tmdbstatus.v1.StatusService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
			if !slices.Contains(got, want) {
				t.Errorf("ListServices() = %q; want %s among them", got, want)
			}
		}
	})

	t.Run("REST", func(t *testing.T) {
		url := "http://" + httpAddr + "/v1/statuses/7"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("NewRequest: %v", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: read body: %v", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s; want %d", url, resp.StatusCode, body, http.StatusOK)
		}
		var got tmdbstatusv1.LookupResponse
		if err := protojson.Unmarshal(body, &got); err != nil {
			t.Fatalf("GET %s: protojson.Unmarshal(%s): %v", url, body, err)
		}
		if got.GetEntry().GetCode() != 7 || got.GetEntry().GetReason() != "INVALID_API_KEY" {
			t.Errorf("GET %s: entry = %v; want code 7, reason INVALID_API_KEY", url, got.GetEntry())
		}
	})

	// One line per server, with the address it really listens on.
	for _, want := range []string{
		`msg="gRPC server listening" addr=` + grpcAddr + "\n",
		`msg="HTTP server listening" addr=` + httpAddr + "\n",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log = %s; want a line ending %s", log, want)
		}
	}

	cancel()
	testutil.WaitDone(t, "serve", done)
	if !strings.Contains(log.String(), `msg="shutting down"`) {
		t.Errorf("log = %s; want a shutting down line", log)
	}
	// The servers closed their listeners.
	for _, addr := range []string{grpcAddr, httpAddr} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("Dial(%s) after shutdown succeeded; want an error", addr)
		}
	}
}

// TestServeFinishesRPCInFlight checks that shutting down waits for an RPC in
// flight, which can still use the server. The RPC is a reflection stream:
// the server is in the middle of it until the client closes it.
func TestServeFinishesRPCInFlight(t *testing.T) {
	t.Parallel()
	grpcAddr, _, log, cancel, done := startServe(t)
	ctx := testutil.Context(t)
	stream, err := reflectionpb.NewServerReflectionClient(testutil.Dial(t, grpcAddr)).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("ServerReflectionInfo: %v", err)
	}
	listServices(t, stream) // The RPC is now running on the server.

	cancel()
	waitForLog(t, log, regexp.MustCompile(`msg="shutting down"`))
	select {
	case err := <-done:
		t.Fatalf("serve = %v with an RPC in flight; want it to wait", err)
	case <-time.After(200 * time.Millisecond):
	}
	if got := listServices(t, stream); !slices.Contains(got, "tmdbstatus.v1.StatusService") {
		t.Errorf("ListServices() during shutdown = %q; want tmdbstatus.v1.StatusService among them", got)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("CloseSend: %v", err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("Recv after CloseSend = %v; want io.EOF", err)
	}
	testutil.WaitDone(t, "serve", done)
}

// TestRunLogsStopped checks that the last line Run writes, in JSON, is
// "stopped" with the cause of a clean shutdown, or the error of a failed
// start.
func TestRunLogsStopped(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.LogFormat = "127.0.0.1:0", "127.0.0.1:0", "json"
	ctx, cancel := context.WithCancelCause(context.Background())
	log := new(testutil.SyncBuffer)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, nil, cfg, func(string) string { return "" }, log) }()
	waitForLog(t, log, regexp.MustCompile(`"msg":"HTTP server listening"`))
	cancel(errors.New("terminated"))
	testutil.WaitDone(t, "Run", done)
	lastLine := func(log string) map[string]any {
		lines := strings.Split(strings.TrimSpace(log), "\n")
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
			t.Fatalf("last log line %q: %v", lines[len(lines)-1], err)
		}
		return m
	}
	if m := lastLine(log.String()); m["msg"] != "stopped" || m["cause"] != "terminated" || m["level"] != "INFO" {
		t.Errorf("last log line after a clean shutdown = %v; want INFO stopped, cause terminated", m)
	}

	cfg.GRPCAddr = "127.0.0.1:-1"
	log = new(testutil.SyncBuffer)
	if err := Run(context.Background(), nil, cfg, func(string) string { return "" }, log); err == nil {
		t.Fatalf("Run with gRPC address %s = nil; want an error", cfg.GRPCAddr)
	}
	if m := lastLine(log.String()); m["msg"] != "stopped" || m["error"] == nil || m["level"] != "ERROR" {
		t.Errorf("last log line after a failed start = %v; want ERROR stopped, with the error", m)
	}
}
