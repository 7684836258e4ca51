package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// h2Conn is an HTTP/2 client connection that writes its own frames.
type h2Conn struct {
	net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

// dialH2 connects to addr and sends the client preface and SETTINGS.
func dialH2(t *testing.T, addr string) *h2Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(testutil.WaitTimeout))
	c := &h2Conn{Conn: conn, fr: http2.NewFramer(conn, conn)}
	c.enc = hpack.NewEncoder(&c.buf)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatalf("write the HTTP/2 preface: %v", err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatalf("WriteSettings: %v", err)
	}
	return c
}

// request opens stream id for method, with extra header fields, and sends
// msg as its one message unless it is nil.
func (c *h2Conn) request(t *testing.T, id uint32, method string, msg []byte, extra ...hpack.HeaderField) {
	t.Helper()
	c.buf.Reset()
	for _, f := range append([]hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: method}, {Name: ":authority", Value: "localhost"},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}, extra...) {
		c.enc.WriteField(f)
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.buf.Bytes(), EndHeaders: true}); err != nil {
		t.Fatalf("WriteHeaders: %v", err)
	}
	if msg != nil {
		frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
		if err := c.fr.WriteData(id, true, frame); err != nil {
			t.Fatalf("WriteData: %v", err)
		}
	}
}

// h2Event is what the server did to a stream: its grpc-status trailer, or
// the code of its RST_STREAM.
type h2Event struct {
	stream      uint32
	grpcStatus  string
	grpcMessage string
	rst         http2.ErrCode
	goAway      *http2.GoAwayFrame
	settings    *http2.SettingsFrame
}

// next reads frames until the server ends a stream, goes away or sends its
// SETTINGS.
func (c *h2Conn) next() (h2Event, error) {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return h2Event{}, err
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				return h2Event{stream: f.StreamID, grpcStatus: f.PseudoValue("") + headerValue(f, "grpc-status"), grpcMessage: headerValue(f, "grpc-message")}, nil
			}
		case *http2.RSTStreamFrame:
			return h2Event{stream: f.StreamID, rst: f.ErrCode}, nil
		case *http2.GoAwayFrame:
			return h2Event{goAway: f}, nil
		case *http2.SettingsFrame:
			if !f.IsAck() {
				return h2Event{settings: f}, nil
			}
		}
	}
}

func headerValue(f *http2.MetaHeadersFrame, name string) string {
	for _, hf := range f.RegularFields() {
		if hf.Name == name {
			return hf.Value
		}
	}
	return ""
}

// TestRequestTimeoutFromStreamOpen checks that a unary RPC whose request
// never arrives ends with DEADLINE_EXCEEDED after RequestTimeout, while a
// health Watch stream, which has no deadline, goes on.
func TestRequestTimeoutFromStreamOpen(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.RequestTimeout = 100 * time.Millisecond
	s := startServeWith(t, cfg, serveOptions{}, false)
	c := dialH2(t, s.GRPCAddr)
	began := time.Now()
	c.request(t, 1, tmdbstatusv1.StatusService_Lookup_FullMethodName, nil) // No message, ever.
	c.request(t, 3, healthpb.Health_Watch_FullMethodName, []byte{})
	for {
		ev, err := c.next()
		if err != nil {
			t.Fatalf("read the server's frames: %v; want stream 1 ended after %v", err, cfg.RequestTimeout)
		}
		if ev.stream == 3 {
			t.Fatalf("the Watch stream ended (%+v); want it open", ev)
		}
		if ev.stream != 1 {
			continue
		}
		took := time.Since(began)
		if ev.grpcStatus != "4" || took < cfg.RequestTimeout {
			t.Errorf("stream without its request ended %+v after %v; want grpc-status 4 (DEADLINE_EXCEEDED) after %v", ev, took, cfg.RequestTimeout)
		}
		break
	}
	// The Watch stream outlives the request timeout.
	c.SetReadDeadline(time.Now().Add(2 * cfg.RequestTimeout))
	ev, err := c.next()
	for err == nil && ev.stream == 1 { // The RST_STREAM after the trailers.
		ev, err = c.next()
	}
	if err == nil {
		t.Errorf("after the Lookup stream ended, the server sent %+v; want nothing (the Watch stream open)", ev)
	}
}

// TestConnectionLimits checks the limits of a gRPC connection: its
// SETTINGS announce them, a stream past MaxConcurrentStreams is refused,
// and a header list past MaxHeaderListBytes too.
func TestConnectionLimits(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.MaxConcurrentStreams = 2
	s := startServeWith(t, cfg, serveOptions{}, false)
	c := dialH2(t, s.GRPCAddr)
	ev, err := c.next()
	if err != nil || ev.settings == nil {
		t.Fatalf("first frame: %+v, %v; want the server's SETTINGS", ev, err)
	}
	for id, want := range map[http2.SettingID]uint32{
		http2.SettingMaxConcurrentStreams: cfg.MaxConcurrentStreams,
		http2.SettingMaxHeaderListSize:    cfg.MaxHeaderListBytes,
	} {
		if got, ok := ev.settings.Value(id); !ok || got != want {
			t.Errorf("server's SETTINGS %v = %d, %v; want %d", id, got, ok, want)
		}
	}
	lookup := tmdbstatusv1.StatusService_Lookup_FullMethodName
	big := hpack.HeaderField{Name: "x-big", Value: strings.Repeat("a", int(cfg.MaxHeaderListBytes))}
	c.request(t, 1, lookup, nil, big)
	c.request(t, 3, lookup, nil)
	c.request(t, 5, lookup, nil)
	c.request(t, 7, lookup, nil) // A third stream open at once.
	got := map[uint32]h2Event{}
	for len(got) < 2 {
		ev, err := c.next()
		if err != nil {
			t.Fatalf("read the server's frames: %v; got %+v, want streams 1 and 7 refused", err, got)
		}
		if ev.stream != 0 {
			got[ev.stream] = ev
		}
	}
	if ev := got[1]; ev.rst == 0 && ev.grpcStatus == "" {
		t.Errorf("stream with a %d-byte header: %+v; want it refused", len(big.Value), ev)
	}
	if ev := got[7]; ev.rst != http2.ErrCodeRefusedStream {
		t.Errorf("stream past %d open at once: %+v; want RST_STREAM REFUSED_STREAM", cfg.MaxConcurrentStreams, ev)
	}
}

// TestMaxConnectionIdle checks that a gRPC connection without an RPC for
// MaxConnectionIdle is sent a GOAWAY.
func TestMaxConnectionIdle(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.MaxConnectionIdle = 300 * time.Millisecond
	s := startServeWith(t, cfg, serveOptions{}, false)
	c := dialH2(t, s.GRPCAddr)
	began := time.Now()
	for {
		ev, err := c.next()
		if err != nil {
			t.Fatalf("read the server's frames: %v; want a GOAWAY after %v idle", err, cfg.MaxConnectionIdle)
		}
		if ev.goAway != nil {
			if took := time.Since(began); took < cfg.MaxConnectionIdle || string(ev.goAway.DebugData()) != "max_idle" {
				t.Errorf("GOAWAY %q after %v; want max_idle after %v", ev.goAway.DebugData(), took, cfg.MaxConnectionIdle)
			}
			return
		}
	}
}

// TestReflectionFlag checks that Config.Reflection turns reflection off.
func TestReflectionFlag(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Reflection = false
	s := startServeWith(t, cfg, serveOptions{}, false)
	stream, err := reflectionpb.NewServerReflectionClient(testutil.Dial(t, s.GRPCAddr)).ServerReflectionInfo(testutil.Context(t))
	if err == nil {
		err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	}
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("ServerReflectionInfo with Reflection off = %v; want Unimplemented", err)
	}
}

func TestConnectionCaps(t *testing.T) {
	t.Parallel()
	adminCap := DefaultConfig().AdminMaxConnections
	tests := []struct {
		maxConns  int
		adminAddr string
		nofile    uint64
		api       int
		admin     int
		err       string
	}{
		{0, "", 1024, (1024 - fdHeadroom) / 2, 0, ""},
		{0, ":9091", 1024, (1024 - fdHeadroom - adminCap) / 2, adminCap, ""},
		{0, ":9091", 1 << 20, maxConnectionsCeiling, adminCap, ""},
		{5000, ":9091", 1 << 20, 5000, adminCap, ""},
		{100, ":9091", 1024, 100, adminCap, ""},
		{500, "", 1024, 0, 0, "--max-connections 500: the gRPC and HTTP ports' connections, the admin port's 0 and 64 other files need 1064 open files; the limit is 1024"},
		{0, "", 64, 0, 0, "the open-file limit 64 leaves 0 connections to the gRPC and HTTP ports; want at least 16: raise it (ulimit -n)"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.MaxConnections, cfg.AdminAddr = tt.maxConns, tt.adminAddr
		api, admin, err := connectionCaps(cfg, tt.nofile)
		var errText string
		if err != nil {
			errText = err.Error()
		}
		if api != tt.api || admin != tt.admin || errText != tt.err {
			t.Errorf("connectionCaps(MaxConnections %d, AdminAddr %q, nofile %d) = %d, %d, %q; want %d, %d, %q",
				tt.maxConns, tt.adminAddr, tt.nofile, api, admin, errText, tt.api, tt.admin, tt.err)
		}
	}
}

// TestRunCapsConnections checks that Run caps the connections of the gRPC
// port: past the cap a connection waits, unanswered, until another closes,
// and the admin port answers meanwhile.
func TestRunCapsConnections(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.MaxConnections = 2
	ctx, cancel := context.WithCancel(context.Background())
	log := new(testutil.SyncBuffer)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, nil, cfg, func(string) string { return "" }, log) }()
	defer testutil.WaitDone(t, "Run", done)
	defer cancel()
	grpcAddr := waitForLog(t, log, regexp.MustCompile(`msg="gRPC server listening" addr=(\S+)`))[1]
	adminAddr := waitForLog(t, log, regexp.MustCompile(`msg="admin server listening" addr=(\S+)`))[1]

	answered := func(c *h2Conn, within time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(within))
		ev, err := c.next()
		return err == nil && ev.settings != nil
	}
	first, second := dialH2(t, grpcAddr), dialH2(t, grpcAddr)
	for _, c := range []*h2Conn{first, second} {
		if !answered(c, testutil.WaitTimeout) {
			t.Fatal("a connection under the cap got no SETTINGS")
		}
	}
	third := dialH2(t, grpcAddr)
	if answered(third, 300*time.Millisecond) {
		t.Fatalf("the connection past the cap of %d was answered; want it waiting", cfg.MaxConnections)
	}
	if code, _ := get(t, &http.Client{Timeout: time.Second}, "http://"+adminAddr+"/healthz"); code != http.StatusOK {
		t.Errorf("admin /healthz with the gRPC port full = %d; want 200", code)
	}
	first.Close()
	if !answered(third, testutil.WaitTimeout) {
		t.Error("the connection past the cap got no SETTINGS once another closed")
	}
	// Closed before the drain, which would wait for them.
	second.Close()
	third.Close()
}

func TestLimitedHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := newLimitedHandler(slog.NewTextHandler(&buf, nil))
	now := time.Unix(1000, 0)
	h.now = func() time.Time { return now }
	logger := slog.New(h).With("logger", "test")
	const flood = libraryLogsPerSecond + 7
	for i := range flood {
		logger.Warn("flood", "i", i)
	}
	if n := strings.Count(buf.String(), "msg=flood"); n != libraryLogsPerSecond {
		t.Errorf("%d records within a second wrote %d lines; want %d:\n%s", flood, n, libraryLogsPerSecond, buf.String())
	}
	now = now.Add(time.Second)
	buf.Reset()
	logger.Warn("after")
	if !strings.Contains(buf.String(), "msg=after logger=test dropped_before=7") {
		t.Errorf("the first record a second later = %q; want it to say 7 were dropped", buf.String())
	}
}

// TestSecondSignalCutsDrain checks that closing now during the drain stops
// the RPCs still in flight at once, rather than after the grace.
func TestSecondSignalCutsDrain(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.RequestTimeout, cfg.ShutdownGrace = time.Minute, time.Minute
	now := make(chan struct{})
	s := startServeWith(t, cfg, serveOptions{now: now}, false)
	c := dialH2(t, s.GRPCAddr)
	if ev, err := c.next(); err != nil || ev.settings == nil {
		t.Fatalf("first frame: %+v, %v; want the server's SETTINGS", ev, err)
	}
	c.request(t, 1, tmdbstatusv1.StatusService_Lookup_FullMethodName, nil) // In flight until its deadline.
	time.Sleep(100 * time.Millisecond)
	s.cancel()
	go func() { // Read, as a client does, until the server closes.
		for {
			if _, err := c.next(); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-s.done:
		t.Fatalf("serve = %v with an RPC in flight; want it draining", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(now)
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "second signal") {
			t.Errorf("serve after the second signal = %v; want an error saying the RPCs in flight were stopped", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("serve still draining 3 s after the second signal; want it stopped at once")
	}
}
