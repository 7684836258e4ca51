//go:build soak

package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// heldRequests is how many requests of each protocol the shutdown test
// holds half-sent across SIGTERM.
const heldRequests = 4

// heldCase is the request the shutdown test holds: a rate-limited TMDB
// answer, whose translation has every kind of detail.
var heldCase = translateCase("held Translate", &tmdbstatusv1.TranslateRequest{
	HttpStatus: 429, RetryAfter: "10",
	Body: `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`,
}, codes.ResourceExhausted, "REQUEST_LIMIT_EXCEEDED", 25)

// heldREST is a REST request whose headers the server has read and whose
// handler has started reading the body: the server has accepted it.
type heldREST struct {
	conn net.Conn
	r    *bufio.Reader
	req  *http.Request
	body []byte
}

// holdREST sends the headers of heldCase with "Expect: 100-continue" and
// waits for the server's "100 Continue", which net/http sends once the
// handler reads the body.
func holdREST(t *testing.T, addr string) *heldREST {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(3 * gracePeriod))
	h := &heldREST{conn: conn, r: bufio.NewReader(conn), body: []byte(heldCase.body)}
	h.req, _ = http.NewRequest(heldCase.method, "http://"+addr+heldCase.path, nil)
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		heldCase.method, heldCase.path, addr, heldCase.ctype, len(h.body))
	line, err := h.r.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("held REST request: read %q, %v; want HTTP/1.1 100 Continue", line, err)
	}
	if blank, err := h.r.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("held REST request: read %q, %v after 100 Continue; want a blank line", blank, err)
	}
	return h
}

// finish sends the body and checks the whole answer.
func (h *heldREST) finish() error {
	if _, err := h.conn.Write(h.body); err != nil {
		return fmt.Errorf("send body: %w", err)
	}
	resp, err := http.ReadResponse(h.r, h.req)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read body after HTTP %d: %w", resp.StatusCode, err)
	}
	return heldCase.checkREST(resp.StatusCode, b)
}

// heldGRPC is a gRPC call, over a raw HTTP/2 connection, whose headers and
// half of whose message the server has read: its handler is running.
type heldGRPC struct {
	conn net.Conn
	fr   *http2.Framer
	rest []byte // the rest of the message
}

// holdGRPC starts heldCase's Translate call on a new HTTP/2 connection,
// sends half of the message, and waits for the answer to a PING sent after
// it: frames are read in order, so the server has seen the stream open.
func holdGRPC(t *testing.T, addr string) *heldGRPC {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(3 * gracePeriod))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatalf("write preface: %v", err)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var hdr bytes.Buffer
	enc := hpack.NewEncoder(&hdr)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", "/tmdbstatus.v1.StatusService/Translate"},
		{":authority", addr}, {"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	msg, err := proto.Marshal(heldCase.translateRequest())
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	frame = append(frame, msg...)
	half := len(frame) / 2
	ping := [8]byte{'h', 'e', 'l', 'd'}
	for _, err := range []error{
		fr.WriteSettings(),
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hdr.Bytes(), EndHeaders: true}),
		fr.WriteData(1, false, frame[:half]),
		fr.WritePing(false, ping),
	} {
		if err != nil {
			t.Fatalf("held gRPC call: write: %v", err)
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("held gRPC call: read: %v", err)
		}
		if p, ok := f.(*http2.PingFrame); ok && p.IsAck() && p.Data == ping {
			return &heldGRPC{conn: conn, fr: fr, rest: frame[half:]}
		}
		if err := answerControl(fr, f); err != nil {
			t.Fatalf("held gRPC call: %v", err)
		}
	}
}

// finish sends the rest of the message and checks the whole answer: the
// response message and a grpc-status of 0 in the trailers. It reports
// whether the server had sent GOAWAY.
func (h *heldGRPC) finish() (goAway bool, err error) {
	if err := h.fr.WriteData(1, true, h.rest); err != nil {
		return false, fmt.Errorf("send the rest of the message: %w", err)
	}
	var data []byte
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return goAway, fmt.Errorf("read: %w (after %d bytes of data)", err, len(data))
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			goAway = true
		case *http2.DataFrame:
			data = append(data, f.Data()...)
		case *http2.RSTStreamFrame:
			return goAway, fmt.Errorf("stream reset: %v", f.ErrCode)
		case *http2.MetaHeadersFrame:
			if !f.StreamEnded() {
				continue // the response headers; the trailers end the stream
			}
			if s := f.PseudoValue("status"); s != "" { // trailers-only: an error
				return goAway, fmt.Errorf("trailers-only answer: grpc-status %s %s", f.Fields[1:], s)
			}
			var grpcStatus string
			for _, hf := range f.RegularFields() {
				if hf.Name == "grpc-status" {
					grpcStatus = hf.Value
				}
			}
			if grpcStatus != "0" || len(data) < 5 {
				return goAway, fmt.Errorf("grpc-status %q with %d bytes of data; want 0 and a message", grpcStatus, len(data))
			}
			resp := new(tmdbstatusv1.TranslateResponse)
			if err := proto.Unmarshal(data[5:], resp); err != nil {
				return goAway, fmt.Errorf("unmarshal response: %w", err)
			}
			return goAway, heldCase.checkResponse(resp)
		default:
			if err := answerControl(h.fr, f); err != nil {
				return goAway, err
			}
		}
	}
}

// translateRequest returns the TranslateRequest of a Translate case, read
// back from its REST body.
func (tc testCase) translateRequest() *tmdbstatusv1.TranslateRequest {
	req := new(tmdbstatusv1.TranslateRequest)
	if err := protojson.Unmarshal([]byte(tc.body), req); err != nil {
		panic(err)
	}
	return req
}

// outcome is one request of the load the shutdown test runs.
type outcome struct {
	proto      string
	start, end time.Time
	err        error
}

// TestShutdownUnderLoad sends SIGTERM to the binary while clients are busy
// over both protocols and requests are held half-sent: every request the
// server had accepted must get its whole, right answer; new connections
// must be refused at once, not hang; the process must exit 0 within the
// grace period.
func TestShutdownUnderLoad(t *testing.T) {
	s := start(t)
	cases := mixedCases()

	var heldR []*heldREST
	var heldG []*heldGRPC
	for range heldRequests {
		heldR = append(heldR, holdREST(t, s.httpAddr))
		heldG = append(heldG, holdGRPC(t, s.grpcAddr))
	}

	var mu sync.Mutex
	var outcomes []outcome
	record := func(proto string, _ testCase, start time.Time, err error) {
		end := time.Now()
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, outcome{proto, start, end, err})
	}
	c := newClients(t, s, 32)
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() {
		c.run(ctx, s, cases, record)
		close(loadDone)
	}()
	// Let the load run until every client has had answers.
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(outcomes)
		mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
	}

	sigterm := time.Now()
	s.signal(t, syscall.SIGTERM)

	// The listeners close at once (each server closes its own, side by
	// side): new connections are refused, while the held requests keep the
	// server draining.
	for _, port := range []struct{ name, addr string }{{"HTTP", s.httpAddr}, {"gRPC", s.grpcAddr}} {
		var err error
		for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			var conn net.Conn
			if conn, err = net.Dial("tcp", port.addr); err == nil {
				conn.Close()
			} else if !errors.Is(err, syscall.ECONNRESET) { // Reset: queued as the listener closed.
				break
			}
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s port after SIGTERM: dial error %v; want connection refused", port.name, err)
		}
	}
	newConn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	began := time.Now()
	_, err = tmdbstatusv1.NewStatusServiceClient(newConn).Lookup(rctx, &tmdbstatusv1.LookupRequest{Code: 7})
	newRPC := time.Since(began)
	cancel()
	newConn.Close()
	if status.Code(err) != codes.Unavailable {
		t.Errorf("new RPC while draining: error %v after %v; want UNAVAILABLE", err, newRPC)
	}
	began = time.Now()
	_, err = (&http.Client{Timeout: waitTimeout}).Get("http://" + s.httpAddr + "/v1/statuses/7")
	newREST := time.Since(began)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("new REST request while draining: error %v after %v; want connection refused", err, newREST)
	}
	select {
	case <-s.exited:
		t.Fatalf("server exited before its held requests were answered: %v", s.waitErr)
	default:
	}

	// Release the held requests: each must get its whole answer.
	heldOK, goAways := 0, 0
	for i, h := range heldR {
		if err := h.finish(); err != nil {
			t.Errorf("held REST request %d: %v", i, err)
		} else {
			heldOK++
		}
	}
	for i, h := range heldG {
		goAway, err := h.finish()
		if goAway {
			goAways++
		}
		if err != nil {
			t.Errorf("held gRPC call %d: %v", i, err)
		} else {
			heldOK++
		}
	}
	if goAways != len(heldG) {
		t.Errorf("%d of %d held gRPC connections got GOAWAY; want all", goAways, len(heldG))
	}

	select {
	case <-s.exited:
	case <-time.After(gracePeriod):
		t.Fatalf("server still running %v after SIGTERM", gracePeriod)
	}
	exitAfter := time.Since(sigterm)
	if s.waitErr != nil {
		t.Errorf("server exit: %v; want exit status 0", s.waitErr)
	}
	stopLoad()
	<-loadDone

	// Judge the load. A request is in flight at SIGTERM, as the client sees
	// it, if it started before and ended after; the server may not have read
	// it yet. Any request may be refused (gRPC UNAVAILABLE; over REST a
	// refused connection, or an idle keep-alive connection closed before the
	// server read the request), but only once SIGTERM is sent; none may be
	// answered wrongly or cut short.
	var before, inFlight, inFlightOK, after, afterOK, refused int
	inFlightRefused := map[string]int{}
	for _, o := range outcomes {
		switch {
		case o.end.Before(sigterm):
			before++
		case o.start.Before(sigterm):
			inFlight++
			if o.err == nil {
				inFlightOK++
			} else {
				inFlightRefused[o.proto]++
			}
		default:
			after++
			if o.err == nil {
				afterOK++
			}
		}
		switch {
		case o.err == nil:
		case cleanRefusal(o) && o.end.After(sigterm):
			refused++
		default:
			t.Errorf("%s request: %v", o.proto, o.err)
		}
	}
	t.Logf("shutdown: %d requests answered before SIGTERM; %d in flight at SIGTERM (client's view), %d of them answered in full, "+
		"%d refused before the server read them (gRPC %d, REST %d); %d sent after SIGTERM, %d of them answered in full on "+
		"connections still draining; %d refused cleanly in all, 0 answered wrongly or cut short",
		before, inFlight, inFlightOK, inFlight-inFlightOK, inFlightRefused["gRPC"], inFlightRefused["REST"], after, afterOK, refused)
	t.Logf("shutdown: %d requests held half-sent across SIGTERM (%d REST, %d gRPC), %d answered in full",
		len(heldR)+len(heldG), len(heldR), len(heldG), heldOK)
	t.Logf("shutdown: new RPC refused (UNAVAILABLE) in %v, new REST connection refused in %v; exit status 0 %v after SIGTERM",
		newRPC.Round(time.Microsecond), newREST.Round(time.Microsecond), exitAfter.Round(time.Millisecond))
}

// cleanRefusal reports whether o failed the way a request the server did
// not accept may: UNAVAILABLE over gRPC; over REST, no answer at all
// because the connection was refused or closed, before or while the client
// wrote the request (EPIPE: an idle keep-alive connection the server closed
// as the client began to reuse it, so the server never read the request).
func cleanRefusal(o outcome) bool {
	ce, ok := errors.AsType[*callError](o.err)
	if !ok {
		return false // an answer came, and was wrong or cut short
	}
	if o.proto == "gRPC" {
		return status.Code(ce.err) == codes.Unavailable
	}
	return errors.Is(ce.err, syscall.ECONNREFUSED) || errors.Is(ce.err, syscall.ECONNRESET) ||
		errors.Is(ce.err, syscall.EPIPE) || errors.Is(ce.err, io.EOF) ||
		// The client's transport closed the connection, on the server's
		// close, while it wrote the request.
		errors.Is(ce.err, net.ErrClosed) ||
		// net/http's own word for the same race, when it sees the close
		// before writing: an unexported error, known by its text.
		strings.Contains(ce.err.Error(), "server closed idle connection")
}
