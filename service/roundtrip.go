package service

import (
	"fmt"
	"mime"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Transport is an http.RoundTripper for existing TMDB clients: it sends each
// request with Base and turns TMDB's error responses into a *ResponseError
// carrying the gRPC status FromResponse gives them, which IsRetryable,
// RetryDelay and StatusOf read back.
//
// An error response is one with an HTTP status of 400 or more, or a 2xx JSON
// response whose body holds a TMDB failure code (TMDB answers "entry not
// found", code 21, with 200), whose translation is not OK. Its body is read
// (at most MaxBodyBytes), kept in the error, and closed. Every other response
// is returned as Base gave it, redirects included (http.Client follows them
// after RoundTrip); of a 2xx JSON body, at most its first KiB was read, and
// it is readable again from its start. A Transport is safe for concurrent
// use.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip sends req with Base and returns its response, or a *ResponseError
// if the response is a TMDB error response, or Base's error.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	var body []byte
	switch {
	case resp.StatusCode >= 400:
		body, _ = peekBody(resp, MaxBodyBytes)
	case resp.StatusCode >= 200 && resp.StatusCode < 300 && isJSON(resp.Header.Get("Content-Type")):
		// A TMDB status body is a few hundred bytes: a longer 2xx body is
		// TMDB's data, returned after a read of its first bytes only.
		body, _ = peekBody(resp, maxStatusBodyBytes+1)
		if len(body) > maxStatusBodyBytes {
			return resp, nil
		}
	default:
		return resp, nil
	}
	st := translateResponse(resp, body)
	if st.Code() == codes.OK {
		return resp, nil
	}
	resp.Body.Close()
	return nil, &ResponseError{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Status: st}
}

// maxStatusBodyBytes is the longest 2xx body Transport reads as a possible
// TMDB status body; TMDB's are under 200 bytes.
const maxStatusBodyBytes = 1 << 10

// isJSON reports whether a Content-Type header names JSON, as TMDB's API
// answers.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// ResponseError is the error Transport returns for a TMDB error response. An
// http.Client returns it wrapped in a *url.Error, whose message holds the
// request's URL: a gRPC handler returns the status as StatusOf gives it, not
// the error itself.
type ResponseError struct {
	// StatusCode is the response's HTTP status.
	StatusCode int
	// Header is the response's header.
	Header http.Header
	// Body is the start of the response's body, at most MaxBodyBytes.
	Body []byte
	// Status is the response's translation, as FromResponse gives it: never
	// OK.
	Status *status.Status
}

// Error returns the HTTP status and the message of the translated status.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("tmdb answered HTTP %d: %s: %s", e.StatusCode, e.Status.Code(), e.Status.Message())
}

// GRPCStatus returns e.Status, for status.FromError, status.Code and
// StatusOf.
func (e *ResponseError) GRPCStatus() *status.Status { return e.Status }
