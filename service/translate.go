package service

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// The Help detail's links to TMDB's documentation.
var (
	errorsLink    = &errdetails.Help_Link{Description: "TMDB API errors", Url: "https://developer.themoviedb.org/docs/errors"}
	rateLimitLink = &errdetails.Help_Link{Description: "TMDB API rate limiting", Url: "https://developer.themoviedb.org/docs/rate-limiting"}
)

// Translation is the result of Translate.
type Translation struct {
	Status *status.Status // TMDB's answer as a gRPC status; Err() is nil for a success
	Entry  Entry          // the table entry of TMDB's status code, or the zero Entry
}

// Translate maps what TMDB answered to a gRPC status, by the rules of docs/mapping.md; it fails,
// with INVALID_ARGUMENT, only if req holds nothing to translate or an impossible HTTP status.
func Translate(req *tmdbstatusv1.TranslateRequest) (Translation, error) {
	b, err := translate(req, time.Now)
	if err != nil {
		return Translation{}, err
	}
	t := Translation{Status: b.st}
	if t.Status == nil {
		t.Status = status.FromProto(b.pb)
	}
	if b.entry != nil {
		t.Entry = b.entry.Entry
	}
	return t, nil
}

// Error returns the error Translate gives for a response holding only code, nil for a success.
func Error(code int32) error {
	if e := tmdb.entry(code); e != nil {
		return e.translation.err
	}
	t, err := Translate(&tmdbstatusv1.TranslateRequest{StatusCode: code})
	if err != nil {
		return err
	}
	return t.Status.Err()
}

// translate does the work of Translate and Server.Translate.
func translate(req *tmdbstatusv1.TranslateRequest, now func() time.Time) (*built, error) {
	t, retryAfter, badBody := readRequest(req)
	httpStatus, message := t.http, t.message // as TMDB gave them
	e := tmdb.entry(t.tmdbCode)
	switch {
	case httpStatus != 0 && (httpStatus < 100 || httpStatus > 599):
		return nil, invalidHTTPStatus(httpStatus)
	case e != nil && e.Code == codes.OK:
		return e.translation, nil
	case e != nil:
		t.code, t.reason, t.fields, t.retry, t.delay = e.Code, e.Reason, e.fields, e.Retryable, e.RetryDelay
		t.message, t.http = cmp.Or(message, e.Message), cmp.Or(httpStatus, e.HTTPStatus)
	case t.tmdbCode == 0 && httpStatus == 0 && badBody:
		return nil, errBodyNotTMDB
	case t.tmdbCode == 0 && httpStatus == 0:
		return nil, errMissingStatus
	case t.tmdbCode != 0:
		// An unknown code is never OK: TMDB sends some failures with a 200.
		t.reason, t.code = ReasonUnknownStatusCode, cmp.Or(codeFromHTTP(httpStatus), codes.Unknown)
		if message == "" {
			t.message = fmt.Sprintf("TMDB status code %d is not in TMDB's table", t.tmdbCode)
		}
	default:
		t.reason, t.code = ReasonNoStatusCode, codeFromHTTP(httpStatus)
	}
	if t.code == codes.OK {
		return okTranslation, nil
	}
	if e == nil {
		t.retry, t.delay = retryableHTTP(httpStatus), tmdb.fallbackDelay
	}
	given := false
	if t.retry {
		if d, ok := parseRetryAfter(retryAfter, now); ok {
			t.delay, given = d, true
		}
	}
	plain := len(t.errors) == 0 && len(t.md) == 0 // nothing beyond a code and an HTTP status
	switch {
	case e != nil && plain && t.message == e.Message && t.http == e.HTTPStatus && !given:
		return e.translation, nil
	case e != nil && plain && t.message == e.Message && t.http == e.HTTPStatus:
		return &built{entry: e, pb: e.translation.withRetryInfo(t.delay)}, nil
	case e == nil && t.tmdbCode == 0 && message == "" && plain && !given:
		return httpOnly(httpStatus), nil
	}
	if t.message == "" {
		t.message = httpMessage(httpStatus)
	}
	return &built{entry: e, pb: t.status()}, nil
}

// withRetryInfo returns b, a retryable entry's shared translation, with a RetryInfo of delay.
func (b *built) withRetryInfo(delay time.Duration) *spb.Status {
	ri, _ := anypb.New(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)}) // cannot fail
	d := b.pb.GetDetails()
	details := make([]*anypb.Any, 0, len(d))
	details = append(details, d[0], ri)
	details = append(details, d[2:]...)
	return &spb.Status{Code: b.pb.GetCode(), Message: b.pb.GetMessage(), Details: details}
}

// httpMessage is the status message of a failure TMDB gave no message for.
func httpMessage(httpStatus int) string {
	return strings.TrimSpace(fmt.Sprintf("TMDB answered HTTP %d %s", httpStatus, http.StatusText(httpStatus)))
}

// alone returns the translation of a response holding only e's code.
func (e *entry) alone() translation {
	return translation{
		code:     e.Code,
		message:  e.Message,
		reason:   e.Reason,
		tmdbCode: int32(e.Status),
		http:     e.HTTPStatus,
		fields:   e.fields,
		retry:    e.Retryable,
		delay:    e.RetryDelay,
	}
}

// translation is what a TMDB response means, before it is a google.rpc.Status.
type translation struct {
	code     codes.Code
	message  string
	reason   string
	tmdbCode int32             // 0 when TMDB gave none
	http     int               // 0 when unknown
	fields   []string          // request parameters the code is about
	errors   []string          // TMDB's errors list
	retry    bool              // add RetryInfo with delay
	delay    time.Duration     // Retry-After's, or the default
	md       map[string]string // metadata read from the headers, or nil
}

// status builds t's google.rpc.Status: one ErrorInfo, then at most one of each other detail.
func (t translation) status() *spb.Status {
	if t.code == codes.OK {
		return &spb.Status{}
	}
	msg := clip(t.message)
	md := t.md
	if md == nil {
		md = make(map[string]string, 4)
	}
	if t.tmdbCode != 0 {
		md[MetadataTMDBStatusCode] = strconv.Itoa(int(t.tmdbCode))
	}
	if t.http != 0 {
		md[MetadataHTTPStatus] = strconv.Itoa(t.http)
	}
	details := []proto.Message{&errdetails.ErrorInfo{Reason: t.reason, Domain: Domain, Metadata: md}}
	if t.retry {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(t.delay)})
	}
	links := []*errdetails.Help_Link{errorsLink}
	if t.tmdbCode == int32(tmdbstatusv1.TmdbStatus_TMDB_STATUS_REQUEST_LIMIT_EXCEEDED) {
		details = append(details, quotaFailure(msg, md))
		links = append(links, rateLimitLink)
	}
	if len(t.fields) > 0 || len(t.errors) > 0 {
		details = append(details, t.badRequest(msg))
	}
	details = append(details, &errdetails.Help{Links: links})
	return newStatus(t.code, msg, details...)
}

// quotaFailure returns the QuotaFailure of rate-limit message msg, adding its numbers to md.
func quotaFailure(msg string, md map[string]string) *errdetails.QuotaFailure {
	v := &errdetails.QuotaFailure_Violation{Subject: "api_key", Description: msg, ApiService: Domain}
	if count, limit, ok := quotaNumbers(msg); ok {
		md[MetadataRequestCount], md[MetadataRequestLimit] = count, limit
		if n, err := strconv.ParseInt(limit, 10, 64); err == nil {
			v.QuotaValue = n
		}
	}
	return &errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{v}}
}

// badRequest returns a violation for each parameter of t's code, then for each of TMDB's errors.
func (t translation) badRequest(msg string) *errdetails.BadRequest {
	br := &errdetails.BadRequest{}
	for _, name := range t.fields {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: name, Description: msg, Reason: t.reason})
	}
	for _, e := range t.errors[:min(len(t.errors), maxErrors)] {
		e = clip(e)
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: paramOf(e), Description: e})
	}
	return br
}

// newStatus builds a google.rpc.Status, INTERNAL if a detail does not marshal (none does).
func newStatus(c codes.Code, msg string, details ...proto.Message) *spb.Status {
	s := &spb.Status{Code: int32(c), Message: msg, Details: make([]*anypb.Any, 0, len(details))}
	for _, d := range details {
		a := &anypb.Any{}
		// Deterministic: equal statuses have equal bytes whatever the order of a map.
		if err := anypb.MarshalFrom(a, d, proto.MarshalOptions{Deterministic: true}); err != nil {
			msg := "tmdbstatus: marshal error details: " + err.Error()
			return &spb.Status{Code: int32(codes.Internal), Message: msg}
		}
		s.Details = append(s.Details, a)
	}
	return s
}

// codeFromHTTP maps an HTTP status to a gRPC code by meaning, as google/rpc/code.proto does;
// it is not the gRPC spec's table for clients that got no status, where 404 is UNIMPLEMENTED.
func codeFromHTTP(httpStatus int) codes.Code {
	if c, ok := httpCodes[httpStatus]; ok {
		return c
	}
	switch httpStatus / 100 {
	case 2:
		return codes.OK
	case 4:
		return codes.InvalidArgument // the request is at fault
	case 5:
		return codes.Internal
	}
	return codes.Unknown // 1xx and 3xx are no failures TMDB's body explains
}

// httpCodes are the HTTP statuses whose code is not their class's.
var httpCodes = map[int]codes.Code{
	http.StatusUnauthorized:       codes.Unauthenticated,
	http.StatusForbidden:          codes.PermissionDenied,
	http.StatusNotFound:           codes.NotFound,
	http.StatusConflict:           codes.Aborted,
	http.StatusTooManyRequests:    codes.ResourceExhausted,
	499:                           codes.Canceled, // Client Closed Request
	http.StatusNotImplemented:     codes.Unimplemented,
	http.StatusBadGateway:         codes.Unavailable, // a proxy that could not reach TMDB, as code 43
	http.StatusServiceUnavailable: codes.Unavailable,
	http.StatusGatewayTimeout:     codes.DeadlineExceeded,
}

// retryableHTTP reports whether a failure with this HTTP status may succeed if retried.
func retryableHTTP(httpStatus int) bool {
	switch httpStatus {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// paramVerbs are the words that, after a parameter's name, make an error about it.
var paramVerbs = []string{"must", "is", "should", "cannot"}

// paramName matches a lowercase identifier that does not end with '.'.
var paramName = regexp.MustCompile(`^[a-z]([a-z0-9_.]*[a-z0-9_])?$`)

// paramOf returns the parameter an entry of TMDB's "errors" starts with, a lowercase identifier
// followed by a paramVerb ("page must be less than or equal to 500"), or "" rather than a guess.
func paramOf(msg string) string {
	name, rest, _ := strings.Cut(msg, " ")
	verb, _, ok := strings.Cut(rest, " ")
	if ok && slices.Contains(paramVerbs, verb) && paramName.MatchString(name) {
		return name
	}
	return ""
}

// quotaNumbers reads the numbers in "Your request count (45) is over the allowed limit of (40).".
func quotaNumbers(msg string) (count, limit string, ok bool) {
	var nums [2]string
	n := 0
	for rest := msg; n < 2; {
		_, after, open := strings.Cut(rest, "(")
		num, tail, closed := strings.Cut(after, ")")
		if !open || !closed {
			break
		}
		if num != "" && strings.Trim(num, "0123456789") == "" {
			nums[n] = num
			n++
		}
		rest = tail
	}
	return nums[0], nums[1], n == 2
}
