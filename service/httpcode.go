package service

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// codeFromHTTP maps an HTTP status to a gRPC code by meaning, for TMDB
// answers without a status code TMDB's table defines. It follows the
// HTTP mapping documented in google/rpc/code.proto, not the gRPC spec's
// HTTP-to-gRPC table: that one is for clients that got no gRPC status at all,
// and turns 404 into UNIMPLEMENTED.
func codeFromHTTP(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case 499: // Client Closed Request, as code.proto maps CANCELLED.
		return codes.Canceled
	case http.StatusInternalServerError:
		return codes.Internal
	case http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusBadGateway:
		// Not in code.proto's list; a proxy that could not reach TMDB is
		// transient, as TMDB's own 502 (code 43) is.
		return codes.Unavailable
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	}
	switch {
	case httpStatus >= 200 && httpStatus < 300:
		return codes.OK
	case httpStatus >= 400 && httpStatus < 500:
		// Another client error: the request is at fault.
		return codes.InvalidArgument
	case httpStatus >= 500 && httpStatus < 600:
		return codes.Internal
	}
	// 1xx and 3xx are not failures TMDB's body would explain.
	return codes.Unknown
}

// retryableHTTP reports whether a failure with this HTTP status may succeed
// if retried: rate limiting and the transient gateway and server errors.
func retryableHTTP(httpStatus int) bool {
	switch httpStatus {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
