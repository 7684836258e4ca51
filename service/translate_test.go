package service

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// fixedNow is the clock of the tests: Retry-After dates are read against it.
var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// decoded is a google.rpc.Status with its details unpacked, for assertions.
type decoded struct {
	code    codes.Code
	message string
	ErrorDetails
}

// decode unpacks s and checks the rules every translated status keeps:
// valid UTF-8, at most one detail of each type and none of another type
// (Details puts those in Unknown), and on an error exactly one ErrorInfo; on
// OK no details at all.
func decode(t *testing.T, s *spb.Status) decoded {
	t.Helper()
	d := decoded{code: codes.Code(s.GetCode()), message: s.GetMessage(), ErrorDetails: Details(status.FromProto(s))}
	if !utf8.ValidString(d.message) {
		t.Errorf("status message %q is not valid UTF-8", d.message)
	}
	for _, u := range d.Unknown {
		t.Errorf("status holds a repeated, unexpected or broken detail: %v", u)
	}
	if d.code == codes.OK && len(s.GetDetails()) > 0 {
		t.Errorf("OK status holds %d details; want none", len(s.GetDetails()))
	}
	if d.code != codes.OK && d.ErrorInfo == nil {
		t.Errorf("error status %v %q holds no ErrorInfo", d.code, d.message)
	}
	return d
}

// translateStatus runs translate and returns the status a handler answers.
func translateStatus(t *testing.T, req *tmdbstatusv1.TranslateRequest) (*spb.Status, *entry, error) {
	t.Helper()
	b, err := translate(req, clock)
	if err != nil {
		return nil, nil, err
	}
	return b.pb, b.entry, nil
}

func TestTranslateEveryCode(t *testing.T) {
	for _, e := range Entries() {
		code := e.TMDBCode()
		s, got, err := translateStatus(t, &tmdbstatusv1.TranslateRequest{StatusCode: code})
		if err != nil {
			t.Fatalf("translate(code %d) error = %v", code, err)
		}
		if got == nil || got.Entry != e {
			t.Errorf("translate(code %d) entry = %v; want %+v", code, got, e)
		}
		d := decode(t, s)
		if d.code != e.Code {
			t.Errorf("translate(code %d).code = %v; want %v", code, d.code, e.Code)
		}
		if e.Code == codes.OK {
			continue
		}
		if d.message != e.Message {
			t.Errorf("translate(code %d).message = %q; want the table's %q", code, d.message, e.Message)
		}
		wantMD := map[string]string{"tmdbStatusCode": strconv.Itoa(int(code)), "httpStatus": strconv.Itoa(e.HTTPStatus)}
		if d.ErrorInfo.GetReason() != e.Reason || d.ErrorInfo.GetDomain() != Domain || !maps.Equal(d.ErrorInfo.GetMetadata(), wantMD) {
			t.Errorf("translate(code %d) ErrorInfo = %v; want reason %s, domain %s, metadata %v", code, d.ErrorInfo, e.Reason, Domain, wantMD)
		}
		if d.Help == nil || len(d.Help.GetLinks()) == 0 || !strings.HasPrefix(d.Help.GetLinks()[0].GetUrl(), "https://developer.themoviedb.org/") {
			t.Errorf("translate(code %d) Help = %v; want a link to TMDB's docs", code, d.Help)
		}
		// Every retryable code tells the client when to retry, and no other.
		switch {
		case e.Retryable && (d.RetryInfo == nil || d.RetryInfo.GetRetryDelay().AsDuration() != e.RetryDelay || e.RetryDelay <= 0):
			t.Errorf("translate(code %d) RetryInfo = %v without a Retry-After; want the default %v", code, d.RetryInfo, e.RetryDelay)
		case !e.Retryable && d.RetryInfo != nil:
			t.Errorf("translate(code %d) has RetryInfo %v; want none, the code is not retryable", code, d.RetryInfo)
		}
		if got, want := d.QuotaFailure != nil, code == 25; got != want {
			t.Errorf("translate(code %d) has QuotaFailure = %v; want %v", code, got, want)
		}
		if got, want := d.BadRequest != nil, len(tmdb.entry(code).fields) > 0; got != want {
			t.Errorf("translate(code %d) has BadRequest = %v; want %v", code, got, want)
		}
	}
}

func TestTranslateCases(t *testing.T) {
	for _, tc := range []struct {
		name      string
		req       *tmdbstatusv1.TranslateRequest
		code      codes.Code
		reason    string
		message   string
		md        map[string]string
		retry     time.Duration // RetryInfo delay; -1 for none
		badFields []string      // BadRequest field names, in order; nil for no BadRequest
	}{
		{
			name:    "TMDB body as is",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 7, StatusMessage: "Invalid API key: You must be granted a valid key."},
			code:    codes.Unauthenticated,
			reason:  "INVALID_API_KEY",
			message: "Invalid API key: You must be granted a valid key.",
			md:      map[string]string{"tmdbStatusCode": "7", "httpStatus": "401"},
			retry:   -1,
		},
		{
			name:    "message as received wins over the table's",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 34, StatusMessage: "The resource you requested could not be found (movie 0)."},
			code:    codes.NotFound,
			reason:  "RESOURCE_NOT_FOUND",
			message: "The resource you requested could not be found (movie 0).",
			md:      map[string]string{"tmdbStatusCode": "34", "httpStatus": "404"},
			retry:   -1,
		},
		{
			name:    "raw body is parsed",
			req:     &tmdbstatusv1.TranslateRequest{HttpStatus: 401, Body: `{"success":false,"status_code":7,"status_message":"Invalid API key: You must be granted a valid key."}`},
			code:    codes.Unauthenticated,
			reason:  "INVALID_API_KEY",
			message: "Invalid API key: You must be granted a valid key.",
			md:      map[string]string{"tmdbStatusCode": "7", "httpStatus": "401"},
			retry:   -1,
		},
		{
			name:    "explicit fields win over the body",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 34, Body: `{"status_code":7,"status_message":"from body"}`},
			code:    codes.NotFound,
			reason:  "RESOURCE_NOT_FOUND",
			message: "from body",
			md:      map[string]string{"tmdbStatusCode": "34", "httpStatus": "404"},
			retry:   -1,
		},
		{
			name:    "received HTTP status goes into metadata",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 34, HttpStatus: 410},
			code:    codes.NotFound,
			reason:  "RESOURCE_NOT_FOUND",
			message: "The resource you requested could not be found.",
			md:      map[string]string{"tmdbStatusCode": "34", "httpStatus": "410"},
			retry:   -1,
		},
		{
			name:    "rate limit with Retry-After seconds",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 25, HttpStatus: 429, RetryAfter: "10", StatusMessage: "Your request count (45) is over the allowed limit of (40)."},
			code:    codes.ResourceExhausted,
			reason:  "REQUEST_LIMIT_EXCEEDED",
			message: "Your request count (45) is over the allowed limit of (40).",
			md:      map[string]string{"tmdbStatusCode": "25", "httpStatus": "429", "requestCount": "45", "requestLimit": "40"},
			retry:   10 * time.Second,
		},
		{
			name:    "unavailable with Retry-After HTTP-date",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 9, RetryAfter: fixedNow.Add(90 * time.Second).Format(http.TimeFormat)},
			code:    codes.Unavailable,
			reason:  "SERVICE_OFFLINE",
			message: "Service offline: This service is temporarily offline, try again later.",
			md:      map[string]string{"tmdbStatusCode": "9", "httpStatus": "503"},
			retry:   90 * time.Second,
		},
		{
			name:    "Retry-After date in the past is no wait",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 46, RetryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"},
			code:    codes.Unavailable,
			reason:  "MAINTENANCE",
			message: "The API is undergoing maintenance. Try again later.",
			md:      map[string]string{"tmdbStatusCode": "46", "httpStatus": "503"},
			retry:   0,
		},
		{
			name:    "invalid Retry-After gives the default delay",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 24, RetryAfter: "soon"},
			code:    codes.DeadlineExceeded,
			reason:  "BACKEND_TIMEOUT",
			message: "Your request to the backend server timed out. Try again.",
			md:      map[string]string{"tmdbStatusCode": "24", "httpStatus": "504"},
			retry:   time.Second,
		},
		{
			name:    "Retry-After on a code that is not retryable is ignored",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 7, RetryAfter: "5"},
			code:    codes.Unauthenticated,
			reason:  "INVALID_API_KEY",
			message: "Invalid API key: You must be granted a valid key.",
			md:      map[string]string{"tmdbStatusCode": "7", "httpStatus": "401"},
			retry:   -1,
		},
		{
			name:      "parameter error names its field",
			req:       &tmdbstatusv1.TranslateRequest{StatusCode: 22},
			code:      codes.InvalidArgument,
			reason:    "INVALID_PAGE",
			message:   "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
			md:        map[string]string{"tmdbStatusCode": "22", "httpStatus": "400"},
			retry:     -1,
			badFields: []string{"page"},
		},
		{
			name:      "TMDB's errors shape with its HTTP status",
			req:       &tmdbstatusv1.TranslateRequest{HttpStatus: 422, Body: `{"errors":["page must be less than or equal to 500"]}`},
			code:      codes.InvalidArgument,
			reason:    ReasonNoStatusCode,
			message:   "TMDB answered HTTP 422 Unprocessable Entity",
			md:        map[string]string{"httpStatus": "422"},
			retry:     -1,
			badFields: []string{"page"},
		},
		{
			name:    "unknown code falls back on the HTTP status",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 99, HttpStatus: 503, RetryAfter: "3"},
			code:    codes.Unavailable,
			reason:  ReasonUnknownStatusCode,
			message: "TMDB status code 99 is not in TMDB's table",
			md:      map[string]string{"tmdbStatusCode": "99", "httpStatus": "503"},
			retry:   3 * time.Second,
		},
		{
			name:    "unknown code without HTTP status",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 99, StatusMessage: "Something new."},
			code:    codes.Unknown,
			reason:  ReasonUnknownStatusCode,
			message: "Something new.",
			md:      map[string]string{"tmdbStatusCode": "99"},
			retry:   -1,
		},
		{
			name:    "unknown code with a 200 is not success",
			req:     &tmdbstatusv1.TranslateRequest{StatusCode: 99, HttpStatus: 200},
			code:    codes.Unknown,
			reason:  ReasonUnknownStatusCode,
			message: "TMDB status code 99 is not in TMDB's table",
			md:      map[string]string{"tmdbStatusCode": "99", "httpStatus": "200"},
			retry:   -1,
		},
		{
			name:    "HTML page from a proxy",
			req:     &tmdbstatusv1.TranslateRequest{HttpStatus: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
			code:    codes.Unavailable,
			reason:  ReasonNoStatusCode,
			message: "TMDB answered HTTP 502 Bad Gateway",
			md:      map[string]string{"httpStatus": "502"},
			retry:   tmdb.fallbackDelay,
		},
		{
			name:    "truncated body keeps what it read",
			req:     &tmdbstatusv1.TranslateRequest{Body: `{"success":false,"status_code":7,"status_mes`},
			code:    codes.Unauthenticated,
			reason:  "INVALID_API_KEY",
			message: "Invalid API key: You must be granted a valid key.",
			md:      map[string]string{"tmdbStatusCode": "7", "httpStatus": "401"},
			retry:   -1,
		},
		{
			name:    "no code, HTTP 404 is NOT_FOUND, not UNIMPLEMENTED",
			req:     &tmdbstatusv1.TranslateRequest{HttpStatus: 404},
			code:    codes.NotFound,
			reason:  ReasonNoStatusCode,
			message: "TMDB answered HTTP 404 Not Found",
			md:      map[string]string{"httpStatus": "404"},
			retry:   -1,
		},
		{
			name:    "no code, other 4xx by class",
			req:     &tmdbstatusv1.TranslateRequest{HttpStatus: 418},
			code:    codes.InvalidArgument,
			reason:  ReasonNoStatusCode,
			message: "TMDB answered HTTP 418 I'm a teapot",
			md:      map[string]string{"httpStatus": "418"},
			retry:   -1,
		},
		{
			name:    "no code, other 5xx by class",
			req:     &tmdbstatusv1.TranslateRequest{HttpStatus: 599},
			code:    codes.Internal,
			reason:  ReasonNoStatusCode,
			message: "TMDB answered HTTP 599",
			md:      map[string]string{"httpStatus": "599"},
			retry:   -1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := translateStatus(t, tc.req)
			if err != nil {
				t.Fatalf("translate(%v) error = %v; want none", tc.req, err)
			}
			d := decode(t, s)
			if d.code != tc.code || d.message != tc.message {
				t.Errorf("translate(%v) = %v %q; want %v %q", tc.req, d.code, d.message, tc.code, tc.message)
			}
			if d.ErrorInfo.GetReason() != tc.reason || d.ErrorInfo.GetDomain() != Domain || !maps.Equal(d.ErrorInfo.GetMetadata(), tc.md) {
				t.Errorf("translate(%v) ErrorInfo = %v; want reason %s, domain %s, metadata %v", tc.req, d.ErrorInfo, tc.reason, Domain, tc.md)
			}
			switch {
			case tc.retry < 0 && d.RetryInfo != nil:
				t.Errorf("translate(%v) RetryInfo = %v; want none", tc.req, d.RetryInfo)
			case tc.retry >= 0 && (d.RetryInfo == nil || d.RetryInfo.GetRetryDelay().AsDuration() != tc.retry):
				t.Errorf("translate(%v) RetryInfo = %v; want delay %v", tc.req, d.RetryInfo, tc.retry)
			}
			var fields []string
			if d.BadRequest != nil {
				fields = []string{}
				for _, v := range d.BadRequest.GetFieldViolations() {
					fields = append(fields, v.GetField())
				}
			}
			if !slices.Equal(fields, tc.badFields) || (tc.badFields == nil) != (d.BadRequest == nil) {
				t.Errorf("translate(%v) BadRequest fields = %q; want %q", tc.req, fields, tc.badFields)
			}
		})
	}
}

func TestTranslateQuota(t *testing.T) {
	s, _, err := translateStatus(t, &tmdbstatusv1.TranslateRequest{StatusCode: 25, StatusMessage: "Your request count (41) is over the allowed limit of (40)."})
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, s)
	if len(d.QuotaFailure.GetViolations()) != 1 {
		t.Fatalf("QuotaFailure = %v; want one violation", d.QuotaFailure)
	}
	if v := d.QuotaFailure.GetViolations()[0]; v.GetApiService() != Domain || v.GetQuotaValue() != 40 || v.GetSubject() == "" {
		t.Errorf("QuotaFailure violation = %v; want api_service %s, quota_value 40, a subject", v, Domain)
	}
}

func TestTranslateSuccess(t *testing.T) {
	for _, req := range []*tmdbstatusv1.TranslateRequest{
		{StatusCode: 1},
		{StatusCode: 12, HttpStatus: 201, StatusMessage: "The item/record was updated successfully."},
		{StatusCode: 13, Body: `{"success":true,"status_code":13,"status_message":"The item/record was deleted successfully."}`},
		{StatusCode: 40, RetryAfter: "5"},
		{HttpStatus: 200, Body: `{"id":550,"title":"Fight Club"}`},
		{HttpStatus: 204},
	} {
		s, _, err := translateStatus(t, req)
		if err != nil {
			t.Fatalf("translate(%v) error = %v", req, err)
		}
		if d := decode(t, s); d.code != codes.OK || d.message != "" {
			t.Errorf("translate(%v) = %v %q; want OK with no message", req, d.code, d.message)
		}
	}
}

func TestTranslateBadRequests(t *testing.T) {
	for _, tc := range []struct {
		req    *tmdbstatusv1.TranslateRequest
		reason string
		field  string
	}{
		{&tmdbstatusv1.TranslateRequest{}, ReasonMissingStatus, "status_code"},
		{&tmdbstatusv1.TranslateRequest{StatusMessage: "just a message", RetryAfter: "3"}, ReasonMissingStatus, "status_code"},
		{&tmdbstatusv1.TranslateRequest{Body: "<html>Bad Gateway</html>"}, ReasonMissingStatus, "body"},
		{&tmdbstatusv1.TranslateRequest{Body: `{"status_code":"7"}`}, ReasonMissingStatus, "status_code"},
		{&tmdbstatusv1.TranslateRequest{StatusCode: 7, HttpStatus: 42}, ReasonInvalidHTTPStatus, "http_status"},
		{&tmdbstatusv1.TranslateRequest{HttpStatus: 600}, ReasonInvalidHTTPStatus, "http_status"},
		{&tmdbstatusv1.TranslateRequest{HttpStatus: -1}, ReasonInvalidHTTPStatus, "http_status"},
	} {
		_, err := Translate(tc.req)
		st, ok := status.FromError(err)
		if !ok || st.Code() != codes.InvalidArgument {
			t.Errorf("Translate(%v) error = %v; want INVALID_ARGUMENT", tc.req, err)
			continue
		}
		d := decode(t, st.Proto())
		if d.ErrorInfo.GetReason() != tc.reason || d.ErrorInfo.GetDomain() != ServiceDomain {
			t.Errorf("Translate(%v) ErrorInfo = %v; want reason %s in %s", tc.req, d.ErrorInfo, tc.reason, ServiceDomain)
		}
		if v := d.BadRequest.GetFieldViolations(); len(v) != 1 || v[0].GetField() != tc.field {
			t.Errorf("Translate(%v) BadRequest = %v; want one violation of %q", tc.req, d.BadRequest, tc.field)
		}
	}
}

func TestTranslateHugeInput(t *testing.T) {
	long := strings.Repeat("é", 1<<20) // 2 MiB of two-byte runes
	errs := make([]string, 1000)
	for i := range errs {
		errs[i] = "bad"
	}
	s, _, err := translateStatus(t, &tmdbstatusv1.TranslateRequest{StatusCode: 5, StatusMessage: long, Errors: errs})
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, s)
	if len(d.message) > maxMessageBytes+len("…") {
		t.Errorf("message of %d bytes; want at most %d", len(d.message), maxMessageBytes+len("…"))
	}
	if n := len(d.BadRequest.GetFieldViolations()); n != maxErrors {
		t.Errorf("BadRequest has %d violations; want %d", n, maxErrors)
	}
}

func TestSharedAnswersStayIntact(t *testing.T) {
	// Answers are shared between calls: after every kind of translation
	// and lookup, each must still be what the table was built with.
	srv, ctx := New(), context.Background()
	for _, e := range Entries() {
		code := e.TMDBCode()
		for _, req := range []*tmdbstatusv1.TranslateRequest{
			{StatusCode: code},
			{StatusCode: code, RetryAfter: "3"},
			{StatusCode: code, StatusMessage: "other", Errors: []string{"bad"}, HttpStatus: 499},
			{HttpStatus: int32(e.HTTPStatus), RetryAfter: "1"},
		} {
			if _, err := Translate(req); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Translate(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := srv.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: code}); err != nil {
			t.Fatal(err)
		}
		_ = Error(code)
	}
	fresh, err := buildTable(tmdbstatusv1.TmdbStatus(0).Descriptor().Values())
	if err != nil {
		t.Fatal(err)
	}
	for code, e := range tmdb.byCode {
		if e == nil {
			continue
		}
		f := fresh.byCode[code]
		if !proto.Equal(e.lookup, f.lookup) || !proto.Equal(e.translation.resp, f.translation.resp) || !proto.Equal(e.translation.st.Proto(), f.translation.pb) {
			t.Errorf("code %d: shared answers changed after use", code)
		}
	}
	if !proto.Equal(tmdb.list, fresh.list) {
		t.Errorf("ListStatuses' shared answer changed after use")
	}
}

func TestError(t *testing.T) {
	if err := Error(1); err != nil {
		t.Errorf("Error(1) = %v; want nil for success", err)
	}
	err := Error(7)
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unauthenticated {
		t.Fatalf("Error(7) = %v; want an UNAUTHENTICATED status error", err)
	}
	if d := decode(t, st.Proto()); d.ErrorInfo.GetReason() != "INVALID_API_KEY" {
		t.Errorf("Error(7) reason = %q; want INVALID_API_KEY", d.ErrorInfo.GetReason())
	}
	if !errors.Is(err, Error(7)) {
		t.Errorf("errors.Is(Error(7), Error(7)) = false; want true")
	}
	st, _ = status.FromError(Error(99))
	if d := decode(t, st.Proto()); d.code != codes.Unknown || d.ErrorInfo.GetReason() != ReasonUnknownStatusCode {
		t.Errorf("Error(99) = %v %s; want UNKNOWN %s", d.code, d.ErrorInfo.GetReason(), ReasonUnknownStatusCode)
	}
	if st, _ := status.FromError(Error(0)); st.Code() != codes.InvalidArgument {
		t.Errorf("Error(0) code = %v; want INVALID_ARGUMENT", st.Code())
	}
}

func TestParseRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"99999999999999999999999", maxRetryAfter, true},
		{fixedNow.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{fixedNow.Add(time.Minute).Format("Monday, 02-Jan-06 15:04:05 MST"), time.Minute, true}, // RFC 850
		{fixedNow.Add(time.Minute).Format(time.ANSIC), time.Minute, true},
		{fixedNow.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"tomorrow", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, clock)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCodeFromHTTP(t *testing.T) {
	// The rows of google/rpc/code.proto's HTTP mapping, and the classes.
	for h, want := range map[int]codes.Code{
		400: codes.InvalidArgument, 401: codes.Unauthenticated, 403: codes.PermissionDenied,
		404: codes.NotFound, 409: codes.Aborted, 429: codes.ResourceExhausted, 499: codes.Canceled,
		500: codes.Internal, 501: codes.Unimplemented, 503: codes.Unavailable, 504: codes.DeadlineExceeded,
		200: codes.OK, 299: codes.OK, 422: codes.InvalidArgument, 502: codes.Unavailable, 507: codes.Internal,
		100: codes.Unknown, 302: codes.Unknown,
	} {
		if got := codeFromHTTP(h); got != want {
			t.Errorf("codeFromHTTP(%d) = %v; want %v", h, got, want)
		}
	}
}

// TestRetryInfoOfHTTPFallbacks checks every HTTP status without a code: the
// retryable ones (429, 502, 503, 504) carry exactly one RetryInfo, of
// Retry-After when given and else of the table's fallback delay; no other
// carries one, whatever Retry-After says.
func TestRetryInfoOfHTTPFallbacks(t *testing.T) {
	for h := int32(400); h <= 599; h++ {
		for _, tc := range []struct {
			retryAfter string
			delay      time.Duration
		}{{"", tmdb.fallbackDelay}, {"7", 7 * time.Second}, {"soon", tmdb.fallbackDelay}} {
			for _, code := range []int32{0, 99} {
				req := &tmdbstatusv1.TranslateRequest{HttpStatus: h, RetryAfter: tc.retryAfter, StatusCode: code}
				s, _, err := translateStatus(t, req)
				if err != nil {
					t.Fatalf("translate(%v) error = %v", req, err)
				}
				retries := 0
				for _, a := range s.GetDetails() {
					if a.MessageIs((*errdetails.RetryInfo)(nil)) {
						retries++
					}
				}
				d := decode(t, s)
				switch retryable := h == 429 || h == 502 || h == 503 || h == 504; {
				case retryable && (retries != 1 || d.RetryInfo.GetRetryDelay().AsDuration() != tc.delay):
					t.Errorf("translate(%v) has %d RetryInfo, %v; want one of %v", req, retries, d.RetryInfo, tc.delay)
				case !retryable && retries != 0:
					t.Errorf("translate(%v) has RetryInfo %v; want none", req, d.RetryInfo)
				}
			}
		}
	}
}
