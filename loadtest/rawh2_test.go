//go:build abuse

package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn is a raw HTTP/2 connection to the gRPC port, for the frames no
// well-behaved client sends. Writes are buffered until flush. A goroutine
// reads the server's frames, acknowledges its SETTINGS and PINGs, and
// counts how its streams end. (Hand-written over x/net/http2's Framer: no
// client library lets a caller misbehave on purpose.)
type h2Conn struct {
	conn    net.Conn
	written atomic.Int64 // bytes written to conn

	mu     sync.Mutex // guards the writing side: bw, fr's writes, enc, hdr, nextID
	bw     *bufio.Writer
	fr     *http2.Framer
	enc    *hpack.Encoder
	hdr    bytes.Buffer
	nextID uint32

	goAway atomic.Bool
	pings  chan [8]byte  // the PING acknowledgements the server sends
	done   chan struct{} // closed when the reading goroutine stops
	endsMu sync.Mutex
	ends   map[string]int // how the server ended streams: "grpc-status N" or "RST_STREAM CODE"
	// The streams the server ended: a stream it ends with trailers before
	// the client has half-closed it is also reset (NO_ERROR), and counts
	// once, by its trailers.
	endedIDs map[uint32]bool
}

// dialTimeout bounds a dial: a server that stops accepting lets the
// kernel's backlog fill, and then connections hang.
const dialTimeout = 2 * time.Second

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// dialH2 opens an HTTP/2 connection to addr, sends the client preface
// with settings, and starts reading. Every read and write on it fails
// after deadline; close it with close.
func dialH2(addr string, deadline time.Time, settings ...http2.Setting) (*h2Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, min(time.Until(deadline), dialTimeout))
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(deadline)
	c := &h2Conn{conn: conn, nextID: 1, pings: make(chan [8]byte, 1), done: make(chan struct{}), ends: map[string]int{}, endedIDs: map[uint32]bool{}}
	c.bw = bufio.NewWriterSize(countingWriter{conn, &c.written}, 64<<10)
	c.fr = http2.NewFramer(c.bw, conn)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.hdr)
	c.bw.WriteString(http2.ClientPreface)
	if err := c.fr.WriteSettings(settings...); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

// close closes the connection and waits for the reading goroutine.
func (c *h2Conn) close() {
	c.conn.Close()
	<-c.done
}

// read reads frames until the connection fails or closes.
func (c *h2Conn) read() {
	defer close(c.done)
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			c.goAway.Store(true)
		case *http2.RSTStreamFrame:
			c.ended(f.StreamID, "RST_STREAM "+f.ErrCode.String())
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				c.ended(f.StreamID, "grpc-status "+grpcStatus(f))
			}
		case *http2.PingFrame:
			if f.IsAck() {
				select {
				case c.pings <- f.Data:
				default:
				}
			} else if c.answer(f) != nil {
				return
			}
		case *http2.SettingsFrame:
			if c.answer(f) != nil {
				return
			}
		}
	}
}

// answer acknowledges a SETTINGS or PING frame at once.
func (c *h2Conn) answer(f http2.Frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := answerControl(c.fr, f); err != nil {
		return err
	}
	return c.bw.Flush()
}

// grpcStatus returns the grpc-status of trailers.
func grpcStatus(f *http2.MetaHeadersFrame) string {
	for _, hf := range f.RegularFields() {
		if hf.Name == "grpc-status" {
			return hf.Value
		}
	}
	return ""
}

func (c *h2Conn) ended(id uint32, how string) {
	c.endsMu.Lock()
	defer c.endsMu.Unlock()
	if c.endedIDs[id] {
		return
	}
	c.endedIDs[id] = true
	c.ends[how]++
}

// endings returns how many streams the server ended, and how.
func (c *h2Conn) endings() (int, map[string]int) {
	c.endsMu.Lock()
	defer c.endsMu.Unlock()
	n := 0
	for _, k := range c.ends {
		n += k
	}
	return n, maps.Clone(c.ends)
}

// grpcRequest writes (without flushing) the HEADERS of a call to method on
// a new stream, with extra fields after the standard ones, then msg as one
// gRPC message if it is not nil; endStream ends the stream after the last
// frame. It returns the stream's ID.
func (c *h2Conn) grpcRequest(method string, msg []byte, endStream bool, extra ...hpack.HeaderField) (uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hdr.Reset()
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", method},
		{":authority", c.conn.RemoteAddr().String()}, {"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for _, f := range extra {
		c.enc.WriteField(f)
	}
	id := c.nextID
	c.nextID += 2
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: c.hdr.Bytes(), EndHeaders: true, EndStream: endStream && msg == nil,
	})
	if err != nil || msg == nil {
		return id, err
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	return id, c.fr.WriteData(id, endStream, append(frame, msg...))
}

// reset writes (without flushing) RST_STREAM CANCEL for stream id.
func (c *h2Conn) reset(id uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fr.WriteRSTStream(id, http2.ErrCodeCancel)
}

// flush sends what is buffered.
func (c *h2Conn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bw.Flush()
}

// sync sends a PING and waits for its acknowledgement: the server reads
// frames in order, so it has then read every frame sent before.
func (c *h2Conn) sync(ctx context.Context) error {
	data := [8]byte{'s', 'y', 'n', 'c'}
	c.mu.Lock()
	err := c.fr.WritePing(false, data)
	if err == nil {
		err = c.bw.Flush()
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	for {
		select {
		case got := <-c.pings:
			if got == data {
				return nil
			}
		case <-c.done:
			return fmt.Errorf("connection closed before the PING was acknowledged")
		case <-ctx.Done():
			return fmt.Errorf("no PING acknowledgement: %w", context.Cause(ctx))
		}
	}
}
