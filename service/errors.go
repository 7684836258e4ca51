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

// Domain is the google.rpc.ErrorInfo domain of translated TMDB failures:
// "api.themoviedb.org", the (tmdbstatus.v1.error_domain) of NO_STATUS_CODE
// and UNKNOWN_STATUS_CODE in the proto, and of every reason of TMDB's table.
var Domain = errorDomain(tmdbstatusv1.ErrorReason_NO_STATUS_CODE)

// ServiceDomain is the google.rpc.ErrorInfo domain of errors of tmdbstatus
// itself, requests it cannot answer: "tmdbstatus.github.io", the
// (tmdbstatus.v1.error_domain) of the reasons below in the proto.
var ServiceDomain = errorDomain(tmdbstatusv1.ErrorReason_MISSING_STATUS)

// ErrorInfo reasons tmdbstatus sends besides those of TMDB's table: the
// names of tmdbstatus.v1.ErrorReason values, whose comments in the proto
// say when each is sent.
var (
	// ReasonUnknownStatusCode, in Domain: a TMDB status code that TMDB's
	// table does not define. The gRPC code then follows the HTTP status, or
	// is UNKNOWN without one.
	ReasonUnknownStatusCode = tmdbstatusv1.ErrorReason_UNKNOWN_STATUS_CODE.String()
	// ReasonNoStatusCode, in Domain: a failure TMDB gave no status code for
	// (a proxy's error page, TMDB's {"errors": [...]} shape). The gRPC code
	// follows the HTTP status.
	ReasonNoStatusCode = tmdbstatusv1.ErrorReason_NO_STATUS_CODE.String()

	// The reasons below are in ServiceDomain.

	// ReasonMissingStatus: a Translate request with nothing to translate.
	ReasonMissingStatus = tmdbstatusv1.ErrorReason_MISSING_STATUS.String()
	// ReasonInvalidHTTPStatus: an HTTP status outside 100-599.
	ReasonInvalidHTTPStatus = tmdbstatusv1.ErrorReason_INVALID_HTTP_STATUS.String()
	// ReasonInvalidCode: a Lookup of a code of zero or less.
	ReasonInvalidCode = tmdbstatusv1.ErrorReason_INVALID_CODE.String()
	// ReasonUnknownCode: a Lookup of a code TMDB's table does not define.
	ReasonUnknownCode = tmdbstatusv1.ErrorReason_UNKNOWN_CODE.String()
	// ReasonInternalError: a request whose handler panicked.
	ReasonInternalError = tmdbstatusv1.ErrorReason_INTERNAL_ERROR.String()

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

// ErrorInfo metadata keys, the (tmdbstatus.v1.metadata_key) options of
// tmdbstatus.v1.MetadataKey values, whose comments in the proto say what
// each holds. Keys are only ever added, never renamed or removed.
var (
	// MetadataTMDBStatusCode is TMDB's status code, as TMDB sent it.
	MetadataTMDBStatusCode = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_TMDB_STATUS_CODE)
	// MetadataHTTPStatus is the HTTP status of TMDB's answer, as received.
	MetadataHTTPStatus = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_HTTP_STATUS)
	// MetadataRequestCount is the caller's request count in TMDB's message
	// of code 25.
	MetadataRequestCount = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_REQUEST_COUNT)
	// MetadataRequestLimit is the request limit in TMDB's message of code 25.
	MetadataRequestLimit = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_REQUEST_LIMIT)
	// MetadataCDN is "cloudfront" when TMDB's CDN answered or relayed the
	// failure: an X-Cache of "Error from cloudfront", or a Via naming
	// CloudFront.
	MetadataCDN = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CDN)
	// MetadataCDNRequestID is the X-Amz-Cf-Id header of the response, the
	// CDN's request id that TMDB's support asks for.
	MetadataCDNRequestID = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CDN_REQUEST_ID)
	// MetadataContentType is the media type of a body that was not TMDB's
	// JSON, such as the CDN's text/html page.
	MetadataContentType = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CONTENT_TYPE)

	// metadataCode is the code of a Lookup, in ServiceDomain.
	metadataCode = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CODE)
)

// errorDomain returns the (tmdbstatus.v1.error_domain) option of r.
func errorDomain(r tmdbstatusv1.ErrorReason) string {
	opts := r.Descriptor().Values().ByNumber(r.Number()).Options()
	return proto.GetExtension(opts, tmdbstatusv1.E_ErrorDomain).(string)
}

// metadataKey returns the (tmdbstatus.v1.metadata_key) option of k.
func metadataKey(k tmdbstatusv1.MetadataKey) string {
	opts := k.Descriptor().Values().ByNumber(k.Number()).Options()
	return proto.GetExtension(opts, tmdbstatusv1.E_MetadataKey).(string)
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
		map[string]string{MetadataHTTPStatus: strconv.Itoa(h)}, "http_status")
}

// lookupErrorCache holds the errors of Lookup for the small codes, built on
// first use: a client probing codes near the table's gets them without the
// cost of building a status.
var lookupErrorCache [1024]atomic.Pointer[error]

// lookupError is the error of Lookup for a code with no entry.
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
	md := map[string]string{metadataCode: strconv.Itoa(int(code))}
	if code <= 0 {
		return requestError(codes.InvalidArgument, ReasonInvalidCode,
			fmt.Sprintf("code %d is not a TMDB status code: codes start at 1", code), md, "code")
	}
	return requestError(codes.NotFound, ReasonUnknownCode,
		fmt.Sprintf("TMDB status code %d is not in TMDB's table", code), md, "")
}
