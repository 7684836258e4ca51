package server

import (
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestRejectedRPCs sends RPCs that grpc-go refuses before their handler, in
// raw HTTP/2 frames, and checks that each is answered with its code and
// counted once under its reason, and that the handler's own errors, and an
// unknown method's name, are not counted there.
func TestRejectedRPCs(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.GRPCMaxRecvBytes = 16
	cfg.RequestTimeout = 300 * time.Millisecond
	s := startServeWith(t, cfg, serveOptions{
		wrap: func(tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer {
			return panickingServer{service.New()} // INTERNAL, with its ErrorInfo.
		},
	}, false)
	const lookup = tmdbstatusv1.StatusService_Lookup_FullMethodName
	list := tmdbstatusv1.StatusService_ListStatuses_FullMethodName
	lookup34 := []byte{0x08, 0x22}
	for _, tc := range []struct {
		name    string
		method  string
		msg     []byte // nil: none, ever
		flag    byte   // 1: the message claims to be compressed
		header  []hpack.HeaderField
		status  string
		message string // "": any
		reason  string // "": not counted
	}{
		{name: "too large", method: lookup, msg: make([]byte, 100), status: "8", reason: rejectedTooLarge},
		{name: "too large for health", method: healthpb.Health_Check_FullMethodName, msg: make([]byte, 100), status: "8", reason: rejectedTooLarge},
		{name: "undecodable", method: list, msg: []byte{0xff, 0xff, 0xff}, status: "13", reason: rejectedUndecodable},
		{name: "bad payload format", method: list, msg: []byte{}, flag: 0xff, status: "13", reason: rejectedUndecodable},
		// grpc-go refuses a grpc-encoding it lacks before any hook but a
		// stats.Handler, which costs every RPC (see BENCHMARKS.md).
		{name: "unknown encoding", method: lookup, msg: lookup34, header: []hpack.HeaderField{{Name: "grpc-encoding", Value: "nope"}}, status: "12"},
		{name: "compressed flag without encoding", method: lookup, msg: lookup34, flag: 1, status: "13", reason: rejectedCompression},
		{name: "unknown method", method: "/tmdbstatus.v1.StatusService/Nope", msg: []byte{}, status: "12", message: "unknown method Nope for service tmdbstatus.v1.StatusService", reason: rejectedUnknownMethod},
		{name: "unknown service", method: "/no.Such/Service", msg: []byte{}, status: "12", message: "unknown service no.Such", reason: rejectedUnknownMethod},
		{name: "no request in time", method: lookup, status: "4", reason: rejectedDeadline},
		{name: "handler's INTERNAL", method: lookup, msg: lookup34, status: "13"},
		{name: "handled", method: list, msg: []byte{}, status: "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rejectedCounts(t, s.HTTPAddr)
			c := dialH2(t, s.GRPCAddr)
			c.request(t, 1, tc.method, nil, tc.header...)
			if tc.msg != nil {
				frame := append([]byte{tc.flag, 0, 0, 0, byte(len(tc.msg))}, tc.msg...)
				if err := c.fr.WriteData(1, true, frame); err != nil {
					t.Fatalf("WriteData: %v", err)
				}
			}
			ev, err := c.next()
			for err == nil && ev.stream != 1 {
				ev, err = c.next()
			}
			if err != nil || ev.grpcStatus != tc.status || (tc.message != "" && ev.grpcMessage != tc.message) {
				t.Fatalf("%s %x = %+v, %v; want grpc-status %s %q", tc.method, tc.msg, ev, err, tc.status, tc.message)
			}
			// grpc-go writes the status of a request it cannot receive
			// before the handler returns, and so before it is counted.
			after := rejectedCounts(t, s.HTTPAddr)
			for deadline := time.Now().Add(testutil.WaitTimeout); after[tc.reason] == before[tc.reason] && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				after = rejectedCounts(t, s.HTTPAddr)
				if tc.reason == "" {
					break // Given the time to be counted, if it were.
				}
			}
			for reason, n := range after {
				want := before[reason]
				if reason == tc.reason {
					want++
				}
				if n != want {
					t.Errorf("tmdbstatus_grpc_rejected_total{reason=%q} went from %v to %v; want %v", reason, before[reason], n, want)
				}
			}
		})
	}
	fams := scrape(t, "http://"+s.HTTPAddr+"/metrics")
	for _, m := range fams["grpc_server_started_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetValue() == "Nope" || l.GetValue() == "no.Such" {
				t.Errorf("grpc_server_started_total has a series for an unknown method: %v", m.GetLabel())
			}
		}
	}
}

// rejectedCounts returns tmdbstatus_grpc_rejected_total by reason, every
// reason there from the start.
func rejectedCounts(t *testing.T, httpAddr string) map[string]float64 {
	t.Helper()
	fams := scrape(t, "http://"+httpAddr+"/metrics?name[]=tmdbstatus_grpc_rejected_total")
	counts := map[string]float64{}
	for _, reason := range []string{rejectedTooLarge, rejectedUndecodable, rejectedCompression, rejectedUnknownMethod, rejectedDeadline} {
		n, ok := sample(fams, "tmdbstatus_grpc_rejected_total", map[string]string{"reason": reason})
		if !ok {
			t.Fatalf("no tmdbstatus_grpc_rejected_total{reason=%q}", reason)
		}
		counts[reason] = n
	}
	return counts
}
