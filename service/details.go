package service

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

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

// RetryDelay returns the delay that the RetryInfo of err's gRPC status advises, and reports
// whether it holds a valid one.
func RetryDelay(err error) (time.Duration, bool) {
	st, ok := StatusOf(err)
	if !ok {
		return 0, false
	}
	delay := Details(st).RetryInfo.GetRetryDelay()
	if delay.CheckValid() != nil || delay.AsDuration() < 0 {
		return 0, false
	}
	return delay.AsDuration(), true
}
