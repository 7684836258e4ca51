package service

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// ServiceDomain is the google.rpc.ErrorInfo domain of errors of tmdbstatus
// itself, requests it cannot answer: "tmdbstatus.github.io", the
// (tmdbstatus.v1.error_domain) of the reasons below in the proto.
var ServiceDomain = errorDomain(tmdbstatusv1.ErrorReason_MISSING_STATUS)

// ErrorInfo reasons of the service's own errors, in ServiceDomain: the names
// of tmdbstatus.v1.ErrorReason values, whose comments in the proto say when
// each is sent.
var (
	// ReasonMissingStatus: a Translate request with nothing to translate.
	ReasonMissingStatus = tmdbstatusv1.ErrorReason_MISSING_STATUS.String()
	// ReasonInvalidHTTPStatus: an HTTP status outside 100-599.
	ReasonInvalidHTTPStatus = tmdbstatusv1.ErrorReason_INVALID_HTTP_STATUS.String()
	// ReasonInvalidCode: a Lookup of a code of zero or less.
	ReasonInvalidCode = tmdbstatusv1.ErrorReason_INVALID_CODE.String()
	// ReasonUnknownCode: a Lookup of a code TMDB's table does not define.
	ReasonUnknownCode = tmdbstatusv1.ErrorReason_UNKNOWN_CODE.String()

	// The reasons of the REST gateway's own errors, for requests that never
	// reach the service.

	// ReasonMalformedRequest: a body or path parameter that does not decode.
	ReasonMalformedRequest = tmdbstatusv1.ErrorReason_MALFORMED_REQUEST.String()
	// ReasonRouteNotFound: a path the API does not have.
	ReasonRouteNotFound = tmdbstatusv1.ErrorReason_ROUTE_NOT_FOUND.String()
	// ReasonMethodNotAllowed: a known path with the wrong HTTP method.
	ReasonMethodNotAllowed = tmdbstatusv1.ErrorReason_METHOD_NOT_ALLOWED.String()
	// ReasonBodyTooLarge: a request body over the gateway's limit.
	ReasonBodyTooLarge = tmdbstatusv1.ErrorReason_BODY_TOO_LARGE.String()
)

// errorDomain returns the (tmdbstatus.v1.error_domain) option of r.
func errorDomain(r tmdbstatusv1.ErrorReason) string {
	opts := r.Descriptor().Values().ByNumber(r.Number()).Options()
	return proto.GetExtension(opts, tmdbstatusv1.E_ErrorDomain).(string)
}

// RequestStatus returns an error of tmdbstatus itself, for a request it
// cannot answer: code c, message msg, a google.rpc.ErrorInfo in
// ServiceDomain with reason and metadata md and, when field is not empty, a
// google.rpc.BadRequest naming it. Invalid UTF-8 in msg or in md's values
// (they may quote a request's path or headers) becomes U+FFFD, as no proto
// string may hold it. The REST gateway answers its own errors with it.
func RequestStatus(c codes.Code, reason, msg string, md map[string]string, field string) *status.Status {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	clean := make(map[string]string, len(md))
	for k, v := range md {
		clean[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(v, "\uFFFD")
	}
	details := []proto.Message{&errdetails.ErrorInfo{Reason: reason, Domain: ServiceDomain, Metadata: clean}}
	if field != "" {
		details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: field, Description: msg, Reason: reason},
		}})
	}
	return status.FromProto(newStatus(c, msg, details...))
}

// requestError is RequestStatus as an error.
func requestError(c codes.Code, reason, msg string, md map[string]string, field string) error {
	return RequestStatus(c, reason, msg, md, field).Err()
}

var (
	errMissingStatus = requestError(codes.InvalidArgument, ReasonMissingStatus,
		"nothing to translate: give status_code, http_status, or a body holding TMDB's status_code", nil, "status_code")
	errBodyNotTMDB = requestError(codes.InvalidArgument, ReasonMissingStatus,
		"body is not a TMDB JSON error body and no http_status was given", nil, "body")
)

func missingStatus(badBody bool) error {
	if badBody {
		return errBodyNotTMDB
	}
	return errMissingStatus
}

func invalidHTTPStatus(h int) error {
	return requestError(codes.InvalidArgument, ReasonInvalidHTTPStatus,
		fmt.Sprintf("http_status %d is not an HTTP status (100-599)", h),
		map[string]string{"httpStatus": strconv.Itoa(h)}, "http_status")
}

// lookupErrorCache holds the errors of Lookup for the small codes, built on
// first use: a client probing codes near the table's gets them without the
// cost of building a status.
var lookupErrorCache [1024]atomic.Pointer[error]

// lookupError is the error of Lookup for a code with no row.
func lookupError(code int32) error {
	if code < 0 || int(code) >= len(lookupErrorCache) {
		return newLookupError(code)
	}
	if p := lookupErrorCache[code].Load(); p != nil {
		return *p
	}
	err := newLookupError(code)
	// Two callers may both build it; the results are equal.
	lookupErrorCache[code].Store(&err)
	return err
}

func newLookupError(code int32) error {
	md := map[string]string{"code": strconv.Itoa(int(code))}
	if code <= 0 {
		return requestError(codes.InvalidArgument, ReasonInvalidCode,
			fmt.Sprintf("code %d is not a TMDB status code: codes start at 1", code), md, "code")
	}
	return requestError(codes.NotFound, ReasonUnknownCode,
		fmt.Sprintf("TMDB status code %d is not in TMDB's table", code), md, "")
}
