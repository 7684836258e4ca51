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
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

var (
	// Domain is the google.rpc.ErrorInfo domain of translated TMDB failures, "api.themoviedb.org".
	Domain = enumOption(tmdbstatusv1.ErrorReason_NO_STATUS_CODE, tmdbstatusv1.E_ErrorDomain)
	// ServiceDomain is the domain of tmdbstatus's own errors, "tmdbstatus.github.io".
	ServiceDomain = enumOption(tmdbstatusv1.ErrorReason_MISSING_STATUS, tmdbstatusv1.E_ErrorDomain)
)

// ErrorInfo reasons besides TMDB's table, the names of tmdbstatus.v1.ErrorReason values.
var (
	// ReasonUnknownStatusCode, in Domain, is for a code not in TMDB's table.
	ReasonUnknownStatusCode = tmdbstatusv1.ErrorReason_UNKNOWN_STATUS_CODE.String()
	// ReasonNoStatusCode, in Domain, is for a failure TMDB gave no code for.
	ReasonNoStatusCode = tmdbstatusv1.ErrorReason_NO_STATUS_CODE.String()

	// ReasonMissingStatus is for a Translate request with nothing to translate.
	ReasonMissingStatus = tmdbstatusv1.ErrorReason_MISSING_STATUS.String()
	// ReasonInvalidHTTPStatus is for an HTTP status outside 100-599.
	ReasonInvalidHTTPStatus = tmdbstatusv1.ErrorReason_INVALID_HTTP_STATUS.String()
	// ReasonInvalidCode is for a Lookup of a code of zero or less.
	ReasonInvalidCode = tmdbstatusv1.ErrorReason_INVALID_CODE.String()
	// ReasonUnknownCode is for a Lookup of a code not in TMDB's table.
	ReasonUnknownCode = tmdbstatusv1.ErrorReason_UNKNOWN_CODE.String()
	// ReasonInternalError is for a request whose handler panicked.
	ReasonInternalError = tmdbstatusv1.ErrorReason_INTERNAL_ERROR.String()

	// ReasonMalformedRequest is for a REST body or path parameter that does not decode.
	ReasonMalformedRequest = tmdbstatusv1.ErrorReason_MALFORMED_REQUEST.String()
	// ReasonRouteNotFound is for a REST path the API does not have.
	ReasonRouteNotFound = tmdbstatusv1.ErrorReason_ROUTE_NOT_FOUND.String()
	// ReasonMethodNotAllowed is for a known REST path with the wrong method.
	ReasonMethodNotAllowed = tmdbstatusv1.ErrorReason_METHOD_NOT_ALLOWED.String()
	// ReasonBodyTooLarge is for a REST request body over the gateway's limit.
	ReasonBodyTooLarge = tmdbstatusv1.ErrorReason_BODY_TOO_LARGE.String()
)

// ErrorInfo metadata keys, the (tmdbstatus.v1.metadata_key) options of tmdbstatus.v1.MetadataKey.
var (
	// MetadataTMDBStatusCode is TMDB's status code, as TMDB sent it.
	MetadataTMDBStatusCode = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_TMDB_STATUS_CODE)
	// MetadataHTTPStatus is the HTTP status of TMDB's answer, as received.
	MetadataHTTPStatus = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_HTTP_STATUS)
	// MetadataRequestCount is the request count in TMDB's message of code 25.
	MetadataRequestCount = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_REQUEST_COUNT)
	// MetadataRequestLimit is the request limit in TMDB's message of code 25.
	MetadataRequestLimit = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_REQUEST_LIMIT)
	// MetadataCDN is "cloudfront" when TMDB's CDN answered or relayed the failure.
	MetadataCDN = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CDN)
	// MetadataCDNRequestID is the X-Amz-Cf-Id header, which TMDB's support asks for.
	MetadataCDNRequestID = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CDN_REQUEST_ID)
	// MetadataContentType is the media type of a body that was not TMDB's JSON.
	MetadataContentType = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CONTENT_TYPE)

	metadataCode = metadataKey(tmdbstatusv1.MetadataKey_METADATA_KEY_CODE) // a Lookup's code
)

// enumOption returns the string option xt of the enum value v.
func enumOption(v protoreflect.Enum, xt protoreflect.ExtensionType) string {
	opts := v.Descriptor().Values().ByNumber(v.Number()).Options()
	return proto.GetExtension(opts, xt).(string)
}

func metadataKey(k tmdbstatusv1.MetadataKey) string {
	return enumOption(k, tmdbstatusv1.E_MetadataKey)
}

// RequestStatus returns a status of tmdbstatus's own, in ServiceDomain, naming field in a
// BadRequest unless it is empty; invalid UTF-8 in msg or md becomes U+FFFD.
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

var (
	errMissingStatus = RequestStatus(codes.InvalidArgument, ReasonMissingStatus,
		"nothing to translate: give status_code, http_status, or a body holding TMDB's status_code",
		nil, "status_code").Err()
	errBodyNotTMDB = RequestStatus(codes.InvalidArgument, ReasonMissingStatus,
		"body is not a TMDB JSON error body and no http_status was given", nil, "body").Err()
)

func invalidHTTPStatus(h int) error {
	return RequestStatus(codes.InvalidArgument, ReasonInvalidHTTPStatus,
		fmt.Sprintf("http_status %d is not an HTTP status (100-599)", h),
		map[string]string{MetadataHTTPStatus: strconv.Itoa(h)}, "http_status").Err()
}

// lookupErrors holds Lookup's errors of the small codes, built on first use.
var lookupErrors [1024]atomic.Pointer[error]

// lookupError is the error of Lookup for a code with no entry.
func lookupError(code int32) error {
	if code < 0 || int(code) >= len(lookupErrors) {
		return newLookupError(code)
	}
	if p := lookupErrors[code].Load(); p != nil {
		return *p
	}
	err := newLookupError(code)
	lookupErrors[code].Store(&err) // two callers may build equal ones
	return err
}

func newLookupError(code int32) error {
	md := map[string]string{metadataCode: strconv.Itoa(int(code))}
	if code <= 0 {
		return RequestStatus(codes.InvalidArgument, ReasonInvalidCode,
			fmt.Sprintf("code %d is not a TMDB status code: codes start at 1", code), md, "code").Err()
	}
	return RequestStatus(codes.NotFound, ReasonUnknownCode,
		fmt.Sprintf("TMDB status code %d is not in TMDB's table", code), md, "").Err()
}
