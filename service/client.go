package service

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// MaxBodyBytes is the most FromResponse and CheckResponse read of a response body.
const MaxBodyBytes = 64 << 10

// maxStatusBodyBytes is the longest 2xx body read as a TMDB status body.
const maxStatusBodyBytes = 1 << 10

// FromResponse translates resp as Translate does its HTTP status, headers and body, and never
// fails: a nil resp, or an HTTP status outside 100-599, gives UNKNOWN. It reads at most
// MaxBodyBytes of the body (of a 2xx one, only JSON of up to 1 KiB, as a longer one is data),
// and leaves resp.Body readable again from its start, with the same content, error and Close.
func FromResponse(resp *http.Response) *status.Status {
	st, _ := translateResponse(resp)
	return st
}

// noResponse is the translation of a nil response.
var noResponse = status.FromProto(translation{code: codes.Unknown, reason: ReasonNoStatusCode, message: "no response from TMDB"}.status())

// CheckResponse returns nil if FromResponse translates resp to OK, else a *ResponseError with
// that translation, as googleapi's CheckResponse does; it reads resp.Body as FromResponse does.
func CheckResponse(resp *http.Response) error {
	st, body := translateResponse(resp)
	if st.Code() == codes.OK || resp == nil {
		return st.Err()
	}
	return &ResponseError{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Status: st}
}

// ResponseError is CheckResponse's error, which a gRPC handler can return as it is.
type ResponseError struct {
	StatusCode int            // the response's HTTP status
	Header     http.Header    // the response's header
	Body       []byte         // the start of the response's body, at most MaxBodyBytes
	Status     *status.Status // the response's translation by FromResponse: never OK
}

// Error returns the HTTP status and the translation's code and message.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("tmdb answered HTTP %d: %s: %s", e.StatusCode, e.Status.Code(), e.Status.Message())
}

// GRPCStatus returns e.Status, for status.FromError and StatusOf.
func (e *ResponseError) GRPCStatus() *status.Status { return e.Status }

// responseBody reads what FromResponse translates of resp's body.
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

// headersOf returns the headers of h that Translate reads.
func headersOf(h http.Header) []*tmdbstatusv1.Header {
	var hs []*tmdbstatusv1.Header
	for _, name := range []string{"Retry-After", "Content-Type", "Content-Encoding", "X-Cache", "Via", "X-Amz-Cf-Id"} {
		for _, v := range h.Values(name) {
			hs = append(hs, &tmdbstatusv1.Header{Name: name, Value: v})
		}
	}
	return hs
}

// translateResponse translates resp, and returns the start of its body that it read.
func translateResponse(resp *http.Response) (*status.Status, []byte) {
	if resp == nil {
		return noResponse, nil
	}
	body := responseBody(resp)
	req := &tmdbstatusv1.TranslateRequest{BodyBytes: body, Headers: headersOf(resp.Header)}
	if resp.StatusCode >= 100 && resp.StatusCode <= 599 {
		req.HttpStatus = int32(resp.StatusCode)
	}
	if t, err := Translate(req); err == nil {
		return t.Status, body
	}
	// Translate refuses only a request with no TMDB body and no HTTP status.
	return status.FromProto(translation{
		code:    codes.Unknown,
		reason:  ReasonNoStatusCode,
		message: fmt.Sprintf("TMDB answered HTTP %d, which is not an HTTP status", resp.StatusCode),
		http:    resp.StatusCode,
	}.status()), body
}

// peekBody reads at most limit bytes of resp.Body and puts back a body that yields them again.
func peekBody(resp *http.Response, limit int64) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body = &replayBody{head: bytes.NewReader(b), err: err, rest: resp.Body}
	return b
}

// replayBody is peekBody's body; it costs fewer allocations than io.MultiReader.
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

// ErrorDetails holds the google.rpc details of a gRPC status that tmdbstatus sends.
type ErrorDetails struct {
	ErrorInfo    *errdetails.ErrorInfo    // why the call failed: reason, domain and metadata
	RetryInfo    *errdetails.RetryInfo    // when to retry; on every retryable status and no other
	QuotaFailure *errdetails.QuotaFailure // the quota a rate-limited call exceeded
	BadRequest   *errdetails.BadRequest   // the request fields at fault
	Help         *errdetails.Help         // links to documentation of the failure
	Unknown      []any                    // other details, repeats and decoding errors, in order
}

// Details decodes st's details as gax-go's apierror does: the first of each type fills its field.
func Details(st *status.Status) ErrorDetails {
	var ed ErrorDetails
	for _, d := range st.Details() {
		var set bool
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			set = setOnce(&ed.ErrorInfo, d)
		case *errdetails.RetryInfo:
			set = setOnce(&ed.RetryInfo, d)
		case *errdetails.QuotaFailure:
			set = setOnce(&ed.QuotaFailure, d)
		case *errdetails.BadRequest:
			set = setOnce(&ed.BadRequest, d)
		case *errdetails.Help:
			set = setOnce(&ed.Help, d)
		}
		if !set {
			ed.Unknown = append(ed.Unknown, d)
		}
	}
	return ed
}

// setOnce sets *field to d if it is nil, and reports whether it was.
func setOnce[T any](field **T, d *T) bool {
	if *field != nil {
		return false
	}
	*field = d
	return true
}

// StatusOf returns the gRPC status err carries or wraps; unlike status.FromError, it keeps the
// status's own message, not a wrapping error's that may hold a URL and its api_key.
func StatusOf(err error) (*status.Status, bool) {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) || gs.GRPCStatus() == nil {
		return nil, false
	}
	return gs.GRPCStatus(), true
}

// IsRetryable reports whether err's gRPC status has a RetryInfo: the same request may succeed.
func IsRetryable(err error) bool {
	st, ok := StatusOf(err)
	return ok && Details(st).RetryInfo != nil
}

// RetryDelay returns the delay that the RetryInfo of err's gRPC status advises, if it is valid.
func RetryDelay(err error) (time.Duration, bool) {
	st, _ := StatusOf(err) // Details of nil is the zero ErrorDetails
	delay := Details(st).RetryInfo.GetRetryDelay()
	if delay.CheckValid() != nil || delay.AsDuration() < 0 {
		return 0, false
	}
	return delay.AsDuration(), true
}
