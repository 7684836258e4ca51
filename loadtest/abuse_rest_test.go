//go:build abuse

package loadtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// translatePath is the REST path of Translate.
const translatePath = "/v1/statuses:translate"

// postTranslate posts body to Translate batch times and returns the
// status and answer of the last, and the server's CPU time for the batch.
func postTranslate(t *testing.T, s *server, c *http.Client, body string, batch int) (int, []byte, time.Duration) {
	t.Helper()
	before := s.cpuTime(t)
	var code int
	var b []byte
	for range batch {
		resp, err := c.Post("http://"+s.httpAddr+translatePath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", translatePath, err)
		}
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("POST %s: read the answer: %v", translatePath, err)
		}
		code = resp.StatusCode
	}
	return code, b, s.cpuTime(t) - before
}

// median returns the median of d.
func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// TestAbuseLargeBodyTypeError posts a 4 MB Translate body whose last field
// has the wrong type, interleaved with the same body with that field
// right, and measures the server's CPU time for each, in batches of four
// (from /proc/PID/stat, in 10 ms ticks): a body must be decoded once, on the
// error path as on success, and the error must not echo the body. The error
// path costs protojson's failed decode, which rescans the input for the
// error's line and column (about 1.3× a valid body), and one syntactic scan
// that names the field (about 0.15×); a second decode costs at least 0.6×
// more, and the versions that did one measured 2.6× to 3.4×.
func TestAbuseLargeBodyTypeError(t *testing.T) {
	s := start(t)
	rounds, batch := sized(3, 9), 4
	// 4,000,000 bytes, under --http-max-body-bytes (4 MiB).
	head := `{"httpStatus":429,"body":"` + strings.Repeat("a", 4_000_000-50) + `","retryAfter":`
	valid, bad := head+`"1"}`, head+`1}`
	c := &http.Client{Timeout: waitTimeout}
	var okCPU, badCPU []time.Duration
	var badAnswer []byte
	for i := range rounds {
		for j := range 2 {
			if (i+j)%2 == 0 { // interleaved, each first in turn
				code, b, cpu := postTranslate(t, s, c, valid, batch)
				if code != http.StatusOK {
					t.Fatalf("valid 4 MB body: HTTP %d %.200s; want 200", code, b)
				}
				okCPU = append(okCPU, cpu)
				continue
			}
			code, b, cpu := postTranslate(t, s, c, bad, batch)
			if code != http.StatusBadRequest {
				t.Fatalf("4 MB body with a type error: HTTP %d %.200s; want 400", code, b)
			}
			badCPU, badAnswer = append(badCPU, cpu), b
		}
	}
	ratio := float64(median(badCPU)) / float64(max(median(okCPU), 10*time.Millisecond))
	t.Logf("%s: server CPU of %d 4 MB Translate bodies, median of %d batches: valid %v %v, type error at its end %v %v (%.2f×); the error answer is %d bytes: %.300s",
		t.Name(), batch, rounds, median(okCPU), okCPU, median(badCPU), badCPU, ratio, len(badAnswer), badAnswer)
	if ratio > 2 {
		t.Errorf("a 4 MB body with a type error costs %.2f× the CPU of a valid one; want at most 2× (decoded once)", ratio)
	}
	if len(badAnswer) > 4<<10 {
		t.Errorf("the error answer is %d bytes; want at most 4 KiB (the input echoed at most once, cut short)", len(badAnswer))
	}
	stopServer(t, s)
}

// whereInProcess matches what an error body must not hold: a socket
// address, or net's own words for a failed read.
var whereInProcess = regexp.MustCompile(`\d{1,3}(\.\d{1,3}){3}:\d+|\[[0-9a-fA-F:.]*\]:\d+|read tcp|i/o timeout`)

// TestAbuseStalledBody sends the headers of a Translate request and part
// of its body, then stalls past the read timeout: the server must answer
// 4xx, with an error that says what was wrong and not where (no socket
// address), and keep answering everyone else.
func TestAbuseStalledBody(t *testing.T) {
	// CI's run shortens --http-read-timeout; the full run tests the default.
	readTimeout := 15 * time.Second
	var flags []string
	if !*abuseFull {
		readTimeout = time.Second
		flags = []string{"--http-read-timeout=1s"}
	}
	s := start(t, flags...)
	n := sized(4, 100)
	w := watchServer(t, s)
	answers := make([]string, n)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i] = stall(s.httpAddr, readTimeout) })
	}
	wg.Wait()
	w.end()
	w.check(t, fmt.Sprintf("%d Translate requests stalled after part of their body, past the read timeout (%v)", n, readTimeout), maxGoroutineGrowth)
	w.checkLeft(t)
	// The answers, alike but for the addresses they may hold, each with
	// its first example.
	type kind struct {
		n       int
		example string
	}
	alike := map[string]*kind{}
	for _, a := range answers {
		key := whereInProcess.ReplaceAllString(a, "<WHERE>")
		if alike[key] == nil {
			alike[key] = &kind{example: a}
		}
		alike[key].n++
	}
	for key, k := range alike {
		t.Logf("%s: %d answered %s", t.Name(), k.n, k.example)
		if !strings.HasPrefix(key, "HTTP 4") || strings.Contains(key, "<WHERE>") {
			t.Errorf("%d stalled requests answered like %s; want a 4xx that names no socket address", k.n, k.example)
		}
	}
	stopServer(t, s)
}

// stall sends a Translate request's headers and part of its body, then
// waits for the answer, at most readTimeout and 5 s more. It returns the
// answer as "HTTP <status> <body>", or what went wrong.
func stall(addr string, readTimeout time.Duration) string {
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return "no connection: " + err.Error()
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(readTimeout + 5*time.Second))
	part := `{"httpStatus":429,"body":`
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		translatePath, addr, len(part)+64, part)
	if err != nil {
		return "send: " + err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer: " + err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return fmt.Sprintf("HTTP %d, then %v", resp.StatusCode, err)
	}
	return fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}
