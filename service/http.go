package service

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// MaxBodyBytes is the most FromResponse and CheckResponse read of a
// response body, so a huge or endless body costs nothing.
const MaxBodyBytes = 64 << 10

// maxStatusBodyBytes is the longest 2xx body read as a TMDB status body.
const maxStatusBodyBytes = 1 << 10

// FromResponse translates a response TMDB gave into a gRPC status, as
// Translate does with its HTTP status, headers and body: OK for a success,
// else an error status with an ErrorInfo and the other details that help.
//
// It reads at most MaxBodyBytes of resp.Body, or of a 2xx JSON body at most
// its first KiB (a longer one is TMDB's data, not a status: a success), and
// none of another 2xx body; then it leaves resp.Body readable again from its
// start, with the same content, read error and Close as before. A body that
// cannot be read, or can be only in part, is translated from what was read:
// FromResponse never fails. A nil resp, or one with an HTTP status outside
// 100-599, gives UNKNOWN.
func FromResponse(resp *http.Response) *status.Status {
	if resp == nil {
		return noResponse
	}
	return translateResponse(resp, responseBody(resp))
}

// noResponse is the translation of a nil response.
var noResponse = status.FromProto(translation{code: codes.Unknown, reason: ReasonNoStatusCode, message: "no response from TMDB"}.status())

// CheckResponse returns nil if resp is a success as FromResponse translates
// it, else a *ResponseError carrying that translation, as googleapi's
// CheckResponse does for Google's APIs. Call it after http.Client.Do, whose
// error is about the transport, not TMDB's answer. It reads resp.Body as
// FromResponse does and leaves it readable again; closing it is the caller's.
func CheckResponse(resp *http.Response) error {
	if resp == nil {
		return noResponse.Err()
	}
	body := responseBody(resp)
	st := translateResponse(resp, body)
	if st.Code() == codes.OK {
		return nil
	}
	return &ResponseError{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Status: st}
}

// ResponseError is the error CheckResponse returns for a TMDB response that
// is not a success. status.FromError, IsRetryable and RetryDelay read its
// Status, and a gRPC handler can return it as it is.
type ResponseError struct {
	StatusCode int            // the response's HTTP status
	Header     http.Header    // the response's header
	Body       []byte         // the start of the response's body, at most MaxBodyBytes
	Status     *status.Status // the response's translation by FromResponse: never OK
}

// Error returns the HTTP status and the translated status's code and
// message, which holds no credential.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("tmdb answered HTTP %d: %s: %s", e.StatusCode, e.Status.Code(), e.Status.Message())
}

// GRPCStatus returns e.Status, for status.FromError, status.Code and
// StatusOf.
func (e *ResponseError) GRPCStatus() *status.Status { return e.Status }

// responseBody reads what FromResponse translates of resp's body, and puts
// back a body that yields it all again.
func responseBody(resp *http.Response) []byte {
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return peekBody(resp, MaxBodyBytes)
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil
	}
	// TMDB answers "entry not found", code 21, with 200.
	if body := peekBody(resp, maxStatusBodyBytes+1); len(body) <= maxStatusBodyBytes {
		return body
	}
	return nil
}

// readHeaderNames are the headers Translate reads, in canonical form.
var readHeaderNames = []string{"Retry-After", "Content-Type", "Content-Encoding", "X-Cache", "Via", "X-Amz-Cf-Id"}

// headersOf returns the headers of h that Translate reads, each value once.
func headersOf(h http.Header) []*tmdbstatusv1.Header {
	var hs []*tmdbstatusv1.Header
	for _, name := range readHeaderNames {
		for _, v := range h.Values(name) {
			hs = append(hs, &tmdbstatusv1.Header{Name: name, Value: v})
		}
	}
	return hs
}

// translateResponse translates resp, whose body's first bytes are body.
func translateResponse(resp *http.Response, body []byte) *status.Status {
	req := &tmdbstatusv1.TranslateRequest{BodyBytes: body, Headers: headersOf(resp.Header)}
	if resp.StatusCode >= 100 && resp.StatusCode <= 599 {
		req.HttpStatus = int32(resp.StatusCode)
	}
	if t, err := Translate(req); err == nil {
		return t.Status
	}
	// Translate refuses only a request with nothing to read: here, no TMDB
	// body and an HTTP status that is no HTTP status.
	return status.FromProto(translation{
		code:    codes.Unknown,
		reason:  ReasonNoStatusCode,
		message: fmt.Sprintf("TMDB answered HTTP %d, which is not an HTTP status", resp.StatusCode),
		http:    resp.StatusCode,
	}.status())
}

// peekBody reads at most limit bytes of resp.Body and puts back a body that
// yields those bytes, then the error that stopped the read, if any, or else
// the rest of the original.
func peekBody(resp *http.Response, limit int64) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body = &replayBody{head: bytes.NewReader(b), err: err, rest: resp.Body}
	return b
}

// replayBody is peekBody's body; it costs fewer allocations than
// io.MultiReader.
type replayBody struct {
	head *bytes.Reader
	err  error
	rest io.ReadCloser
}

func (b *replayBody) Read(p []byte) (int, error) {
	switch {
	case b.head.Len() > 0:
		return b.head.Read(p)
	case b.err != nil:
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *replayBody) Close() error { return b.rest.Close() }
