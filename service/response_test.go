package service

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

const notFoundJSON = `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`

// gzipped returns b compressed with gzip.
func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hdrs builds headers from name, value pairs.
func hdrs(kv ...string) []*tmdbstatusv1.Header {
	var hs []*tmdbstatusv1.Header
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, &tmdbstatusv1.Header{Name: kv[i], Value: kv[i+1]})
	}
	return hs
}

// TestBodiesAndHeaders covers what the body bytes and the headers add: gzip
// with and without Content-Encoding, other encodings, which body wins,
// Retry-After from the headers, and the CDN's marks.
func TestBodiesAndHeaders(t *testing.T) {
	gz := gzipped(t, []byte(notFoundJSON))
	notFound := map[string]string{"tmdbStatusCode": "34", "httpStatus": "404"}
	for _, tc := range []struct {
		name   string
		req    *tmdbstatusv1.TranslateRequest
		code   codes.Code
		reason string
		md     map[string]string
		retry  time.Duration // -1: no RetryInfo
	}{
		{"gzip without Content-Encoding", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, BodyBytes: gz},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"gzip with Content-Encoding", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, BodyBytes: gz, Headers: hdrs("content-encoding", "gzip")},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"gzip in the string body", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, Body: string(gz)},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"truncated gzip keeps what inflates", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, BodyBytes: gz[:len(gz)-12]},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"gzip magic then garbage", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, BodyBytes: []byte("\x1f\x8bnot gzip")},
			codes.NotFound, ReasonNoStatusCode, map[string]string{"httpStatus": "404"}, -1},
		{"declared gzip, already decoded", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, Body: notFoundJSON, Headers: hdrs("Content-Encoding", "GZIP")},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"brotli is not read", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, Body: notFoundJSON, Headers: hdrs("Content-Encoding", "br")},
			codes.NotFound, ReasonNoStatusCode, map[string]string{"httpStatus": "404"}, -1},
		{"body_bytes wins over body", &tmdbstatusv1.TranslateRequest{HttpStatus: 401, Body: `{"status_code":7}`, BodyBytes: []byte(notFoundJSON)},
			codes.NotFound, "RESOURCE_NOT_FOUND", map[string]string{"tmdbStatusCode": "34", "httpStatus": "401"}, -1},
		{"Retry-After from the headers", &tmdbstatusv1.TranslateRequest{StatusCode: 25, Headers: hdrs("retry-after", "7")},
			codes.ResourceExhausted, "REQUEST_LIMIT_EXCEEDED", map[string]string{"tmdbStatusCode": "25", "httpStatus": "429"}, 7 * time.Second},
		{"retry_after wins over the header", &tmdbstatusv1.TranslateRequest{StatusCode: 25, RetryAfter: "3", Headers: hdrs("Retry-After", "7")},
			codes.ResourceExhausted, "REQUEST_LIMIT_EXCEEDED", map[string]string{"tmdbStatusCode": "25", "httpStatus": "429"}, 3 * time.Second},
		{"the first Retry-After header counts", &tmdbstatusv1.TranslateRequest{HttpStatus: 503, Headers: hdrs("Retry-After", "9", "Retry-After", "2")},
			codes.Unavailable, ReasonNoStatusCode, map[string]string{"httpStatus": "503"}, 9 * time.Second},
		{"CloudFront 429 without a body", &tmdbstatusv1.TranslateRequest{HttpStatus: 429, Headers: hdrs("X-Cache", "Error from cloudfront", "X-Amz-Cf-Id", "a1B2c3==")},
			codes.ResourceExhausted, ReasonNoStatusCode, map[string]string{"httpStatus": "429", "cdn": "cloudfront", "cdnRequestId": "a1B2c3=="}, time.Second},
		{"a Via naming CloudFront", &tmdbstatusv1.TranslateRequest{StatusCode: 34, Headers: hdrs("Via", "1.1 proxy.example", "via", "1.1 abc.cloudfront.net (CloudFront)")},
			codes.NotFound, "RESOURCE_NOT_FOUND", map[string]string{"tmdbStatusCode": "34", "httpStatus": "404", "cdn": "cloudfront"}, -1},
		{"a cache hit is no CDN error", &tmdbstatusv1.TranslateRequest{StatusCode: 34, Headers: hdrs("X-Cache", "Hit from cloudfront")},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"the CDN's HTML page", &tmdbstatusv1.TranslateRequest{HttpStatus: 503, Body: "<html><body>503</body></html>", Headers: hdrs("Content-Type", "text/HTML; charset=iso-8859-1", "X-Cache", "Error from cloudfront")},
			codes.Unavailable, ReasonNoStatusCode, map[string]string{"httpStatus": "503", "cdn": "cloudfront", "contentType": "text/html"}, time.Second},
		{"no contentType for TMDB's JSON", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, Body: notFoundJSON, Headers: hdrs("Content-Type", "application/json;charset=utf-8")},
			codes.NotFound, "RESOURCE_NOT_FOUND", notFound, -1},
		{"a huge or invalid cf id is bounded", &tmdbstatusv1.TranslateRequest{StatusCode: 34, Headers: hdrs("X-Amz-Cf-Id", "\xff"+strings.Repeat("é", 100))},
			codes.NotFound, "RESOURCE_NOT_FOUND", map[string]string{"tmdbStatusCode": "34", "httpStatus": "404", "cdnRequestId": "\uFFFD" + strings.Repeat("é", 62)}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := translateStatus(t, tc.req)
			if err != nil {
				t.Fatalf("translate(%v) error = %v", tc.req, err)
			}
			d := decode(t, s)
			if d.code != tc.code || d.ErrorInfo.GetReason() != tc.reason || !maps.Equal(d.ErrorInfo.GetMetadata(), tc.md) {
				t.Errorf("translate(%v) = %v %s %v; want %v %s %v", tc.req, d.code, d.ErrorInfo.GetReason(), d.ErrorInfo.GetMetadata(), tc.code, tc.reason, tc.md)
			}
			switch {
			case tc.retry < 0 && d.RetryInfo != nil:
				t.Errorf("translate(%v) RetryInfo = %v; want none", tc.req, d.RetryInfo)
			case tc.retry >= 0 && d.RetryInfo.GetRetryDelay().AsDuration() != tc.retry:
				t.Errorf("translate(%v) RetryInfo = %v; want %v", tc.req, d.RetryInfo, tc.retry)
			}
		})
	}
}

// TestGzipBomb inflates a body of 64 MiB of zeros compressed to some
// 64 KiB: translating it must read no more than maxInflatedBytes of it.
func TestGzipBomb(t *testing.T) {
	// A gzip stream may hold several members, read as one: a member of the
	// body and 1 MiB of zeros, then 63 of 1 MiB of zeros, inflate to 64 MiB
	// and take a fraction of the time compressing 64 MiB would.
	bomb := gzipped(t, append([]byte(`{"status_code":34,"padding":"`), make([]byte, 1<<20)...))
	zeros := gzipped(t, make([]byte, 1<<20))
	for range 63 {
		bomb = append(bomb, zeros...)
	}
	if n := inflatedSize(t, bomb); n < 64<<20 {
		t.Fatalf("the gzip bomb inflates to %d bytes; want at least 64 MiB", n)
	}
	req := &tmdbstatusv1.TranslateRequest{HttpStatus: 404, BodyBytes: bomb}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, _, err := translateStatus(t, req)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if d := decode(t, s); d.code != codes.NotFound || d.ErrorInfo.GetReason() != "RESOURCE_NOT_FOUND" {
		t.Errorf("translate(gzip bomb) = %v %s; want NotFound RESOURCE_NOT_FOUND", d.code, d.ErrorInfo.GetReason())
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("translate(gzip bomb of %d bytes) allocated %d bytes; want at most 1 MiB", len(bomb), got)
	}
}

// inflatedSize returns the size of the gzip data b once inflated.
func inflatedSize(t *testing.T, b []byte) int64 {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRedact checks that the credentials a message or header may quote are
// replaced, and that the rest is kept.
func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"page must be less than or equal to 500", "page must be less than or equal to 500"},
		{`Get "https://api.themoviedb.org/3/movie/550?api_key=abc123&language=en": EOF`, `Get "https://api.themoviedb.org/3/movie/550?api_key=REDACTED&language=en": EOF`},
		{"/3/account?session_id=s3cr3t", "/3/account?session_id=REDACTED"},
		{"/3/guest_session/x/rated?guest_session_id=g1", "/3/guest_session/x/rated?guest_session_id=REDACTED"},
		{"?API_KEY=abc#frag", "?API_KEY=REDACTED#frag"},
		{"request_token=t&password=p&username=u", "request_token=REDACTED&password=REDACTED&username=u"},
		{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiIxIn0.sig-_x==", "Authorization: Bearer REDACTED"},
		{"bearer  abc", "bearer  REDACTED"},
		{"a=b, my_api_key=1", "a=b, my_api_key=1"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestNoCredentialInTranslation passes credentials everywhere TMDB's
// response could quote them: none may reach the status.
func TestNoCredentialInTranslation(t *testing.T) {
	const secret = "s3cr3tv4lue"
	req := &tmdbstatusv1.TranslateRequest{
		HttpStatus: 429,
		Body:       `{"status_code":25,"status_message":"over the limit for ?api_key=` + secret + `","errors":["session_id=` + secret + ` is invalid"]}`,
		Headers:    hdrs("X-Amz-Cf-Id", "Bearer "+secret, "Content-Type", "text/html"),
	}
	s, _, err := translateStatus(t, req)
	if err != nil {
		t.Fatal(err)
	}
	if text := s.String(); strings.Contains(text, secret) {
		t.Errorf("translate(%v) = %s; holds the credential", req, text)
	}
}
