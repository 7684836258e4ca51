package service

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// ErrorDetails holds the details of a gRPC status that tmdbstatus sends,
// the google/rpc/error_details.proto messages, decoded once.
type ErrorDetails struct {
	// ErrorInfo says why the call failed: its reason, domain and metadata.
	ErrorInfo *errdetails.ErrorInfo
	// RetryInfo, present on every retryable status and no other, says
	// when to retry.
	RetryInfo *errdetails.RetryInfo
	// QuotaFailure names the quota a rate-limited call exceeded.
	QuotaFailure *errdetails.QuotaFailure
	// BadRequest names the request fields at fault.
	BadRequest *errdetails.BadRequest
	// Help links to documentation of the failure.
	Help *errdetails.Help
	// Unknown holds every other detail, in order: a message of another
	// type, a second message of a type above, or the error of a detail
	// that did not decode.
	Unknown []any
}

// Details decodes the details of st, as apierror.ErrDetails of gax-go does:
// the first detail of each type above fills its field. A nil st, or one
// without details, gives the zero ErrorDetails.
func Details(st *status.Status) ErrorDetails {
	var ed ErrorDetails
	for _, d := range st.Details() {
		if !ed.set(d) {
			ed.Unknown = append(ed.Unknown, d)
		}
	}
	return ed
}

// set fills the field of d's type, if it is one of ed's and still empty,
// and reports whether it did.
func (ed *ErrorDetails) set(d any) bool {
	switch d := d.(type) {
	case *errdetails.ErrorInfo:
		return setOnce(&ed.ErrorInfo, d)
	case *errdetails.RetryInfo:
		return setOnce(&ed.RetryInfo, d)
	case *errdetails.QuotaFailure:
		return setOnce(&ed.QuotaFailure, d)
	case *errdetails.BadRequest:
		return setOnce(&ed.BadRequest, d)
	case *errdetails.Help:
		return setOnce(&ed.Help, d)
	}
	return false
}

// setOnce sets *field to d if it is nil, and reports whether it was.
func setOnce[T any](field **T, d *T) bool {
	if *field != nil {
		return false
	}
	*field = d
	return true
}

// StatusOf returns the gRPC status err carries, or wraps, unchanged, and
// reports whether there is one. Unlike status.FromError, it keeps the
// status's own message when err wraps it: the message of a wrapping error
// (fmt.Errorf("fetching %s: %w", url, err), a *url.Error) may hold the
// request's URL, with TMDB's api_key if the request carried it there, which
// a gRPC handler must not send on.
func StatusOf(err error) (*status.Status, bool) {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) || gs.GRPCStatus() == nil {
		return nil, false
	}
	return gs.GRPCStatus(), true
}

// IsRetryable reports whether err carries a gRPC status that says the same
// request may succeed if sent again: one with a google.rpc.RetryInfo, as
// AIP-194 has it. Every retryable translation carries one (a TMDB code the
// table marks retryable, or without one an HTTP 429, 502, 503 or 504), and
// no other does, so the status alone decides, in any language. It reports
// false for nil and for errors with no RetryInfo, such as a bare
// UNAVAILABLE.
func IsRetryable(err error) bool {
	st, ok := StatusOf(err)
	return ok && Details(st).RetryInfo != nil
}

// RetryDelay returns the delay before a retry that err's gRPC status
// advises in its google.rpc.RetryInfo: TMDB's Retry-After when it sent one,
// else the default delay of the proto (every retryable translation carries
// one). It reports false when err carries no RetryInfo with a valid delay of
// zero or more; a RetryInfo without one is still retryable (IsRetryable),
// with a backoff of the caller's choosing.
func RetryDelay(err error) (time.Duration, bool) {
	st, ok := StatusOf(err)
	if !ok {
		return 0, false
	}
	ri := Details(st).RetryInfo
	if ri == nil {
		return 0, false
	}
	delay := ri.GetRetryDelay()
	if delay.CheckValid() != nil || delay.AsDuration() < 0 {
		return 0, false
	}
	return delay.AsDuration(), true
}
