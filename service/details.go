package service

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// ErrorDetails holds the google/rpc/error_details.proto details of a gRPC
// status that tmdbstatus sends, decoded once.
type ErrorDetails struct {
	ErrorInfo    *errdetails.ErrorInfo    // why the call failed: reason, domain and metadata
	RetryInfo    *errdetails.RetryInfo    // when to retry; on every retryable status and no other
	QuotaFailure *errdetails.QuotaFailure // the quota a rate-limited call exceeded
	BadRequest   *errdetails.BadRequest   // the request fields at fault
	Help         *errdetails.Help         // links to documentation of the failure
	// Unknown holds every other detail, in order: a message of another type,
	// a second message of a type above, or the error of one that did not decode.
	Unknown []any
}

// Details decodes the details of st, as gax-go's apierror.ErrDetails does:
// the first detail of each type above fills its field. A nil st, or one
// without details, gives the zero ErrorDetails.
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

// StatusOf returns the gRPC status err carries or wraps, unchanged, and
// reports whether there is one. Unlike status.FromError, it keeps the
// status's own message when err wraps it: a wrapping error's message (a
// *url.Error's) may hold the request's URL and its api_key, which a gRPC
// handler must not send on.
func StatusOf(err error) (*status.Status, bool) {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) || gs.GRPCStatus() == nil {
		return nil, false
	}
	return gs.GRPCStatus(), true
}

// IsRetryable reports whether err carries a gRPC status with a
// google.rpc.RetryInfo, which says, as AIP-194 has it, that the same request
// may succeed if sent again. It reports false for nil and for errors with no
// RetryInfo, such as a bare UNAVAILABLE.
func IsRetryable(err error) bool {
	st, ok := StatusOf(err)
	return ok && Details(st).RetryInfo != nil
}

// RetryDelay returns the delay before a retry that the google.rpc.RetryInfo
// of err's gRPC status advises: TMDB's Retry-After when it sent one, else
// the proto's default. It reports false when err carries no RetryInfo with a
// valid delay of zero or more; one without is still retryable, with a
// backoff of the caller's choosing.
func RetryDelay(err error) (time.Duration, bool) {
	st, ok := StatusOf(err)
	if !ok {
		return 0, false
	}
	delay := Details(st).RetryInfo.GetRetryDelay()
	if delay == nil || delay.CheckValid() != nil || delay.AsDuration() < 0 {
		return 0, false
	}
	return delay.AsDuration(), true
}
