package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// TestServers starts every reference's server in-process on loopback and
// checks that it answers as the benchmark expects before measuring it.
func TestServers(t *testing.T) {
	for _, mode := range referenceModes {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			lis := testutil.Listen(t)
			run, err := newServer(ctx, mode)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- run(ctx, lis) }()
			s := &server{mode: mode, cmd: exec.Command("true"), addr: lis.Addr().String()}
			if err := check(ctx, s); err != nil {
				t.Errorf("check(%s) = %v", mode, err)
			}
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("serve(%s) = %v", mode, err)
			}
		})
	}
}

func TestFixedJSON(t *testing.T) {
	for _, n := range []int{10, 11, 300, 1000} {
		b := fixedJSON(n)
		if len(b) != n || !json.Valid(b) {
			t.Errorf("fixedJSON(%d) = %d bytes, valid %v; want %d valid bytes", n, len(b), json.Valid(b), n)
		}
	}
}

func TestRESTFloorSize(t *testing.T) {
	// The mix's answers are a few hundred bytes each.
	if n := restFloorSize(); n < 100 || n > 2000 {
		t.Errorf("restFloorSize() = %d; want the mean size of the answers, 100 to 2000", n)
	}
}

func TestGRPCFrame(t *testing.T) {
	msg := &tmdbstatusv1.LookupRequest{Code: 7}
	f := grpcFrame(msg)
	if f[0] != 0 || int(binary.BigEndian.Uint32(f[1:5])) != len(f)-5 {
		t.Fatalf("grpcFrame(%v) = %x: bad prefix", msg, f)
	}
	var got tmdbstatusv1.LookupRequest
	if err := proto.Unmarshal(f[5:], &got); err != nil {
		t.Fatalf("grpcFrame(%v): proto.Unmarshal: %v", msg, err)
	}
	if diff := cmp.Diff(msg, &got, protocmp.Transform()); diff != "" {
		t.Errorf("grpcFrame(%v) holds another message (-want +got):\n%s", msg, diff)
	}
}

func TestPercentileMedian(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(sorted, 50); p != 5 {
		t.Errorf("percentile(1..10, 50) = %v; want 5", p)
	}
	if p := percentile(sorted, 99); p != 10 {
		t.Errorf("percentile(1..10, 99) = %v; want 10", p)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median(3, 1, 2) = %v; want 2", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median(4, 1, 3, 2) = %v; want 2.5", m)
	}
}

// TestWRKScript checks that the wrk script sends each call of the mix.
func TestWRKScript(t *testing.T) {
	s := wrkScript(2)
	for _, c := range mix {
		if !strings.Contains(s, c.path) {
			t.Errorf("wrkScript lacks %s %s:\n%s", c.method, c.path, s)
		}
	}
	if !strings.Contains(s, "delay = function() return 2 end") {
		t.Errorf("wrkScript(2) lacks the delay:\n%s", s)
	}
}

// TestBinary builds the tmdbstatus binary, runs it as the benchmark does
// in every binary mode, and checks that it answers, and that a traced one
// exports its spans to the benchmark's collector.
func TestBinary(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset not installed")
	}
	bin := testutil.BuildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	col, err := startCollector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer col.stop()
	o := options{serverCPU: "0", binary: bin, collector: col}
	for _, mode := range modes {
		if !isBinary(mode) {
			continue
		}
		s, err := startServer(o, "", mode, time.Minute, "")
		if err != nil {
			t.Fatalf("startServer(%s): %v", mode, err)
		}
		before := col.spans.Load()
		if err := check(ctx, s); err != nil {
			t.Errorf("check(%s) = %v", mode, err)
		}
		s.stop() // Flushes the spans: an untraced binary sends none later.
		traced := mode == modeGRPCTraced || mode == modeRESTTraced
		wait := 500 * time.Millisecond
		if traced {
			wait = 5 * time.Second
		}
		if got := col.waitSpans(before+1, wait) - before; (got > 0) != traced {
			t.Errorf("%s: the collector got %d spans; want some: %v", mode, got, traced)
		}
	}
}
