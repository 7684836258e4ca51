package service

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// maxMessageBytes bounds the status message taken from a response, so a
// huge body cannot make a huge status.
const maxMessageBytes = 1024

// helpLinks point a caller at TMDB's documentation.
var (
	errorsLink    = &errdetails.Help_Link{Description: "TMDB API errors", Url: "https://developer.themoviedb.org/docs/errors"}
	rateLimitLink = &errdetails.Help_Link{Description: "TMDB API rate limiting", Url: "https://developer.themoviedb.org/docs/rate-limiting"}
)

// Translate maps what TMDB answered to a gRPC status: OK for TMDB's success
// codes and for a 2xx answer without a status code, else an error status
// whose details hold exactly one google.rpc.ErrorInfo and, where they help,
// RetryInfo, QuotaFailure, BadRequest and Help. It returns an INVALID_ARGUMENT
// error only when req says nothing to translate (no status code, HTTP status
// or body holding a code) or holds an impossible HTTP status.
//
// The returned status may be shared with other callers; *status.Status only
// hands out copies, so that is safe.
func Translate(req *tmdbstatusv1.TranslateRequest) (Translation, error) {
	res, err := translate(req, time.Now)
	if err != nil {
		return Translation{}, err
	}
	t := Translation{}
	if res.row != nil {
		t.Entry = res.row.Entry
	}
	if res.shared != nil {
		t.Status = res.shared.st
	} else {
		t.Status = status.FromProto(res.pb)
	}
	return t, nil
}

// Translation is the result of Translate.
type Translation struct {
	// Status is the gRPC status of TMDB's answer; Status.Err() is nil for
	// success and otherwise an error a gRPC handler can return as is.
	Status *status.Status
	// Entry is the table entry of TMDB's status code; its Status is
	// TMDB_STATUS_UNSPECIFIED when the code is absent or not in the table.
	Entry Entry
}

// Error returns the error TMDB means by a status code, as Translate gives it
// for a response holding only that code: nil for TMDB's success codes, else
// an error carrying a *status.Status (status.FromError reads it back). A code
// TMDB does not define gives an UNKNOWN error with reason UNKNOWN_STATUS_CODE;
// zero, which is no code, gives an INVALID_ARGUMENT error.
func Error(code int32) error {
	if r := tmdb.row(code); r != nil {
		return r.answer.err
	}
	t, err := Translate(&tmdbstatusv1.TranslateRequest{StatusCode: code})
	if err != nil {
		return err
	}
	return t.Status.Err()
}

// result is a translation: either a shared answer built once, or a status
// built for this call.
type result struct {
	row    *row        // the table row of the status code; nil if none
	shared *answer     // a prebuilt answer; nil when pb was built
	pb     *spb.Status // the status built for an answer that adds to the table
}

// translate does the work of Translate. When TMDB's answer adds nothing to
// what is known in advance (the table's row, an HTTP status alone, success)
// the result is a shared answer built once.
func translate(req *tmdbstatusv1.TranslateRequest, now func() time.Time) (result, error) {
	in := readRequest(req)
	if in.httpStatus != 0 && (in.httpStatus < 100 || in.httpStatus > 599) {
		return result{}, invalidHTTPStatus(in.httpStatus)
	}
	if r := tmdb.row(in.code); r != nil {
		return translateRow(r, in, now), nil
	}
	if in.code == 0 && in.httpStatus == 0 {
		return result{}, missingStatus(in.hasBody && !in.bodyRead)
	}
	f := failure{tmdbCode: in.code, http: in.httpStatus, errors: in.errs, message: in.message, extra: in.extra}
	if in.code != 0 {
		f.reason = ReasonUnknownStatusCode
		f.code = codes.Unknown
		if in.httpStatus != 0 {
			f.code = codeFromHTTP(in.httpStatus)
		}
		if f.code == codes.OK {
			// A status code is there but unknown: TMDB's codes are
			// mostly failures (21 comes with a 200), so don't call it OK.
			f.code = codes.Unknown
		}
		if f.message == "" {
			f.message = fmt.Sprintf("TMDB status code %d is not in TMDB's table", in.code)
		}
	} else {
		f.code = codeFromHTTP(in.httpStatus)
		if f.code == codes.OK {
			return result{shared: okAnswer}, nil
		}
		f.reason = ReasonNoStatusCode
	}
	given := false
	if retryableHTTP(in.httpStatus) {
		f.retry, f.delay = true, tmdb.fallbackDelay
		if d, ok := parseRetryAfter(in.retryAfter, now); ok {
			f.delay, given = d, true
		}
	}
	if in.code == 0 && in.message == "" && len(in.errs) == 0 && !given && in.extra.empty() {
		// Nothing but an HTTP status: the answer is always the same.
		return result{shared: httpOnly(in.httpStatus)}, nil
	}
	if f.message == "" {
		f.message = httpMessage(in.httpStatus)
	}
	return result{pb: f.status()}, nil
}

// translateRow translates a response whose status code has row r.
func translateRow(r *row, in input, now func() time.Time) result {
	if r.Code == codes.OK {
		return result{row: r, shared: r.answer}
	}
	delay, given := r.RetryDelay, false
	if r.Retryable {
		if d, ok := parseRetryAfter(in.retryAfter, now); ok {
			delay, given = d, true
		}
	}
	if (in.message == "" || in.message == r.Message) && (in.httpStatus == 0 || in.httpStatus == r.HTTPStatus) && len(in.errs) == 0 && in.extra.empty() {
		if !given {
			return result{row: r, shared: r.answer}
		}
		// Only the delay adds to the table's answer.
		return result{row: r, pb: r.answer.withRetryInfo(delay)}
	}
	message := in.message
	if message == "" {
		message = r.Message
	}
	f := r.known(message, in.httpStatus, in.errs, delay)
	f.extra = in.extra
	return result{row: r, pb: f.status()}
}

// httpOnlyCache holds the translations of answers that carry nothing but
// an HTTP status, built on first use: they are all alike.
var httpOnlyCache [600]atomic.Pointer[answer]

// httpOnly returns the translation of an answer holding only an HTTP
// status, 100 to 599, that does not map to OK.
func httpOnly(httpStatus int) *answer {
	if p := httpOnlyCache[httpStatus].Load(); p != nil {
		return p
	}
	p, _ := newAnswer(failure{
		code:    codeFromHTTP(httpStatus),
		reason:  ReasonNoStatusCode,
		message: httpMessage(httpStatus),
		http:    httpStatus,
		retry:   retryableHTTP(httpStatus),
		delay:   tmdb.fallbackDelay,
	}, nil)
	// Two callers may both build it; the results are equal.
	httpOnlyCache[httpStatus].Store(p)
	return p
}

func httpMessage(httpStatus int) string {
	return strings.TrimSpace(fmt.Sprintf("TMDB answered HTTP %d %s", httpStatus, http.StatusText(httpStatus)))
}

// known describes the failure of a row's code with what TMDB's answer adds;
// delay is that of its RetryInfo if the row is retryable.
func (r *row) known(message string, httpStatus int, errs []string, delay time.Duration) failure {
	if httpStatus == 0 {
		httpStatus = r.HTTPStatus
	}
	return failure{
		code:     r.Code,
		message:  message,
		reason:   r.Reason,
		tmdbCode: int32(r.Status),
		http:     httpStatus,
		fields:   r.fields,
		errors:   errs,
		retry:    r.Retryable,
		delay:    delay,
		quota:    r.Status == tmdbstatusv1.TmdbStatus_TMDB_STATUS_REQUEST_LIMIT_EXCEEDED,
	}
}

// failure describes a translated TMDB answer before it becomes a status.
type failure struct {
	code     codes.Code
	message  string
	reason   string
	tmdbCode int32         // 0 when TMDB gave none
	http     int           // 0 when unknown
	fields   []string      // request parameters the code is about
	errors   []string      // TMDB's errors list
	retry    bool          // add RetryInfo with delay
	delay    time.Duration // Retry-After's, or the default
	quota    bool          // add QuotaFailure
	extra    extraMetadata // metadata read from the headers
}

// status builds the google.rpc.Status of f: exactly one ErrorInfo, then the
// other details that apply, at most one of each type.
func (f failure) status() *spb.Status {
	if f.code == codes.OK {
		return &spb.Status{}
	}
	msg := clip(f.message)
	md := make(map[string]string, 4)
	f.extra.addTo(md)
	if f.tmdbCode != 0 {
		md[MetadataTMDBStatusCode] = strconv.Itoa(int(f.tmdbCode))
	}
	if f.http != 0 {
		md[MetadataHTTPStatus] = strconv.Itoa(f.http)
	}
	var quota *errdetails.QuotaFailure
	if f.quota {
		v := &errdetails.QuotaFailure_Violation{Subject: "api_key", Description: msg, ApiService: Domain}
		// TMDB's message names the caller's count and the limit:
		// "Your request count (#) is over the allowed limit of (40)."
		if count, limit, ok := quotaNumbers(msg); ok {
			md[MetadataRequestCount], md[MetadataRequestLimit] = count, limit
			if n, err := strconv.ParseInt(limit, 10, 64); err == nil {
				v.QuotaValue = n
			}
		}
		quota = &errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{v}}
	}
	details := []proto.Message{&errdetails.ErrorInfo{Reason: f.reason, Domain: Domain, Metadata: md}}
	if f.retry {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(f.delay)})
	}
	if quota != nil {
		details = append(details, quota)
	}
	if len(f.fields) > 0 || len(f.errors) > 0 {
		br := &errdetails.BadRequest{}
		for _, name := range f.fields {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: name, Description: msg, Reason: f.reason})
		}
		// Explicit errors are bounded as parsed ones are (maxErrors).
		for _, e := range f.errors[:min(len(f.errors), maxErrors)] {
			e = clip(e)
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: paramOf(e), Description: e})
		}
		details = append(details, br)
	}
	links := []*errdetails.Help_Link{errorsLink}
	if f.quota {
		links = append(links, rateLimitLink)
	}
	details = append(details, &errdetails.Help{Links: links})
	return newStatus(f.code, msg, details...)
}

// newStatus builds a google.rpc.Status. Marshalling the fixed detail types
// into Any cannot fail; if it ever did, the status says so rather than
// dropping details silently.
func newStatus(c codes.Code, msg string, details ...proto.Message) *spb.Status {
	s := &spb.Status{Code: int32(c), Message: msg, Details: make([]*anypb.Any, 0, len(details))}
	for _, d := range details {
		// Deterministic: ErrorInfo's metadata is a map, and equal statuses
		// should have equal bytes.
		a := &anypb.Any{}
		if err := anypb.MarshalFrom(a, d, proto.MarshalOptions{Deterministic: true}); err != nil {
			return &spb.Status{Code: int32(codes.Internal), Message: "tmdbstatus: marshal error details: " + err.Error()}
		}
		s.Details = append(s.Details, a)
	}
	return s
}

// answer is a translation built once and shared: the status as the proto a
// handler returns in its TranslateResponse, and as a *status.Status and its
// error for Go callers. Nothing may change it once built.
type answer struct {
	pb   *spb.Status
	st   *status.Status
	err  error
	resp *tmdbstatusv1.TranslateResponse
}

// newAnswer builds the answer of f; entry is the table row's, or nil.
func newAnswer(f failure, entry *tmdbstatusv1.StatusEntry) (*answer, error) {
	pb := f.status()
	if f.code != codes.OK && len(pb.GetDetails()) == 0 {
		return nil, fmt.Errorf("no details: %s", pb.GetMessage())
	}
	st := status.FromProto(pb)
	return &answer{pb: pb, st: st, err: st.Err(), resp: &tmdbstatusv1.TranslateResponse{Status: pb, Entry: entry}}, nil
}

// withRetryInfo returns the status of a, the answer of a retryable row,
// with the RetryInfo after its ErrorInfo replaced by one of delay: what
// failure.status builds for the failure of a with that delay, at the cost of
// one small detail. The other details are a's, shared as a's whole status is.
func (a *answer) withRetryInfo(delay time.Duration) *spb.Status {
	d := a.pb.GetDetails()
	details := make([]*anypb.Any, 0, len(d))
	details = append(details, d[0], retryInfoAny(delay))
	details = append(details, d[2:]...)
	return &spb.Status{Code: a.pb.GetCode(), Message: a.pb.GetMessage(), Details: details}
}

// retryInfoURL is the type URL of google.rpc.RetryInfo in an Any.
var retryInfoURL = "type.googleapis.com/" + string((*errdetails.RetryInfo)(nil).ProtoReflect().Descriptor().FullName())

// retryInfoAny returns the Any of a google.rpc.RetryInfo of delay, which is
// not negative: the bytes proto.Marshal writes for it, written directly.
func retryInfoAny(delay time.Duration) *anypb.Any {
	// google.protobuf.Duration: seconds = 1, nanos = 2; zeros are omitted.
	secs, nanos := int64(delay/time.Second), int64(delay%time.Second)
	var buf [2 * (1 + binary.MaxVarintLen64)]byte
	dur := buf[:0]
	if secs != 0 {
		dur = protowire.AppendVarint(protowire.AppendTag(dur, 1, protowire.VarintType), uint64(secs))
	}
	if nanos != 0 {
		dur = protowire.AppendVarint(protowire.AppendTag(dur, 2, protowire.VarintType), uint64(nanos))
	}
	// RetryInfo: retry_delay = 1, written even when zero. len(dur) < 128
	// takes one byte.
	b := make([]byte, 0, 2+len(dur))
	b = protowire.AppendBytes(protowire.AppendTag(b, 1, protowire.BytesType), dur)
	return &anypb.Any{TypeUrl: retryInfoURL, Value: b}
}

// okAnswer is the translation of a success without a table row.
var okAnswer, _ = newAnswer(failure{code: codes.OK}, nil)

// clip bounds s to maxMessageBytes, cutting at a rune boundary, replaces
// invalid UTF-8 (which only a Go caller can pass) with U+FFFD, and the
// credentials it quotes with REDACTED.
func clip(s string) string {
	s = redact(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quotaNumbers reads the request count and the limit from TMDB's message of
// code 25, "Your request count (45) is over the allowed limit of (40).".
func quotaNumbers(msg string) (count, limit string, ok bool) {
	var nums [2]string
	n := 0
	for rest := msg; n < 2; {
		open := strings.IndexByte(rest, '(')
		if open < 0 {
			break
		}
		rest = rest[open+1:]
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			break
		}
		if num := rest[:end]; num != "" && strings.Trim(num, "0123456789") == "" {
			nums[n] = num
			n++
		}
		rest = rest[end+1:]
	}
	return nums[0], nums[1], n == 2
}
