package service

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// fuzzErrorsSep separates the entries of TranslateRequest.errors in the
// fuzzer's one string argument: go test -fuzz takes no slices.
const fuzzErrorsSep = "\x1e"

// reasonPattern is AIP-193's shape of an ErrorInfo reason.
var reasonPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,61}[A-Z0-9]$`)

// FuzzTranslate checks, for any request, what Translate promises: either an
// INVALID_ARGUMENT error with one ErrorInfo in ServiceDomain, or a status
// that is OK with no details, or an error status with exactly one ErrorInfo,
// at most one detail of each type and a bounded message. Strings in the
// answer are valid UTF-8 whatever the request holds, so that the answer can
// always be marshalled and sent; the gRPC handler answers the same.
func FuzzTranslate(f *testing.F) {
	add := func(success bool, code int32, msg, errs string, httpStatus int32, retryAfter, body string) {
		f.Add(success, code, msg, errs, httpStatus, retryAfter, body)
	}
	// Real TMDB bodies of both shapes, alone and with what the HTTP
	// response adds.
	for _, b := range []string{bodyInvalidKey, bodyNotFound, bodyDeleted, bodyRateLimit, bodyPage, bodyTwoErrors, bodyEscaped} {
		add(false, 0, "", "", 0, "", b)
		add(false, 0, "", "", 429, "10", b)
	}
	add(false, 25, "Your request count (41) is over the allowed limit of (40).", "", 429, "Fri, 27 Nov 2026 12:00:10 GMT", "")
	add(false, 22, "", "page must be less than or equal to 500"+fuzzErrorsSep+"query must be provided", 400, "", "")
	add(true, 1, "Success.", "", 200, "", "")
	add(false, 9, "", "", 503, "120", "")
	// A proxy's HTML page, empty and blank bodies, plain text.
	add(false, 0, "", "", 502, "", bodyHTML)
	add(false, 0, "", "", 0, "", bodyHTML)
	add(false, 0, "", "", 0, "", "")
	add(false, 0, "", "", 504, "", " \n")
	add(false, 0, "", "", 0, "", "Bad Gateway")
	// Truncated bodies.
	for n := 1; n < len(bodyRateLimit); n += 9 {
		add(false, 0, "", "", 429, "5", bodyRateLimit[:n])
	}
	// Deeply nested and huge JSON: bodies past the limits (1 KiB of
	// message, 64 errors), kept small enough to mutate quickly; the unit
	// tests take megabytes.
	add(false, 0, "", "", 0, "", `{"x":`+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)+`,"status_code":7}`)
	add(false, 0, "", "", 0, "", `{"x":`+strings.Repeat(`{"a":`, 1000)+"1"+strings.Repeat("}", 1000)+`,"status_code":34}`)
	add(false, 0, "", "", 0, "", strings.Repeat("[", 4096))
	add(false, 0, "", "", 500, "", `{"status_code":11,"status_message":"`+strings.Repeat("é", 1<<11)+`"}`)
	add(false, 0, "", "", 422, "", `{"errors":[`+strings.Repeat(`"e",`, 100)+`"e"]}`)
	// Numbers at and past the edges, unknown and negative codes, bad
	// statuses and Retry-After values.
	add(false, -1, "", "", 0, "", "")
	add(false, -2147483648, "m", "", 599, "", "")
	add(false, 2147483647, "", "", 100, "", "")
	add(false, 48, "", "", 200, "1", "")
	add(false, 7, "", "", 600, "", "")
	add(false, 0, "", "", -2147483648, "", "")
	add(false, 0, "", "", 0, "", `{"status_code":2147483648}`)
	add(false, 24, "", "", 504, "-1", "")
	add(false, 24, "", "", 504, "99999999999999999999", "")
	add(false, 43, "", "", 502, "Mon, 01 Jan 0001 00:00:00 GMT", "")
	// Invalid UTF-8, which only a Go caller can send: gRPC and protojson
	// refuse it in a string field.
	add(false, 25, "count (\xff) over limit of (\xc3)", "", 429, "", "")
	add(false, 22, "\xed\xa0\x80", "\xff"+fuzzErrorsSep+"ok", 0, "", "")
	add(false, 0, "", "", 0, "", "{\"status_code\":5,\"status_message\":\"\xff\",\"errors\":[\"\xfe\"]}")

	srv := New()
	f.Fuzz(func(t *testing.T, success bool, code int32, msg, errs string, httpStatus int32, retryAfter, body string) {
		req := &tmdbstatusv1.TranslateRequest{
			Success: success, StatusCode: code, StatusMessage: msg,
			HttpStatus: httpStatus, RetryAfter: retryAfter, Body: body,
		}
		if errs != "" {
			req.Errors = strings.Split(errs, fuzzErrorsSep)
		}
		tr, err := Translate(req)
		resp, srvErr := srv.Translate(context.Background(), req)
		if (err == nil) != (srvErr == nil) {
			t.Fatalf("Translate error = %v but Server.Translate error = %v", err, srvErr)
		}
		if err != nil {
			checkRequestError(t, err)
			return
		}
		// A RetryInfo is compared only by its presence: its delay from an
		// HTTP-date depends on the time of the call.
		if diff := cmp.Diff(tr.Status.Proto(), resp.GetStatus(), protocmp.Transform(), protocmp.IgnoreFields(&errdetails.RetryInfo{}, "retry_delay")); diff != "" {
			t.Errorf("Translate and Server.Translate statuses differ (-Translate +Server.Translate):\n%s", diff)
		}
		d := decode(t, resp.GetStatus())
		if d.code != codes.OK {
			if d.ErrorInfo.GetDomain() != Domain || !reasonPattern.MatchString(d.ErrorInfo.GetReason()) {
				t.Errorf("ErrorInfo = %v; want domain %s and an UPPER_SNAKE_CASE reason", d.ErrorInfo, Domain)
			}
			if len(d.message) > maxMessageBytes+len("…") {
				t.Errorf("message of %d bytes; want at most %d", len(d.message), maxMessageBytes+len("…"))
			}
			if n := len(d.BadRequest.GetFieldViolations()); n > maxErrors+2 {
				t.Errorf("BadRequest has %d violations; want at most %d", n, maxErrors+2)
			}
		}
		// What the gRPC server does with the answer: it must marshal, so
		// every string in it, details included, is valid UTF-8.
		if _, err := proto.Marshal(resp); err != nil {
			t.Errorf("proto.Marshal(response) = %v; want no error", err)
		}
		for _, v := range d.BadRequest.GetFieldViolations() {
			if !utf8.ValidString(v.GetDescription()) {
				t.Errorf("BadRequest description %q is not valid UTF-8", v.GetDescription())
			}
		}
		for _, v := range d.QuotaFailure.GetViolations() {
			if !utf8.ValidString(v.GetDescription()) {
				t.Errorf("QuotaFailure description %q is not valid UTF-8", v.GetDescription())
			}
		}
	})
}

// checkRequestError checks an error of Translate: INVALID_ARGUMENT with
// exactly one ErrorInfo, in ServiceDomain, with one of Translate's reasons.
func checkRequestError(t *testing.T, err error) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("Translate error = %v; want an INVALID_ARGUMENT status", err)
	}
	d := decode(t, st.Proto())
	if d.ErrorInfo.GetDomain() != ServiceDomain || (d.ErrorInfo.GetReason() != ReasonMissingStatus && d.ErrorInfo.GetReason() != ReasonInvalidHTTPStatus) {
		t.Errorf("Translate error ErrorInfo = %v; want reason %s or %s in %s", d.ErrorInfo, ReasonMissingStatus, ReasonInvalidHTTPStatus, ServiceDomain)
	}
}
