package gateway_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// tmdbInvalidKey is a body TMDB sends, as it sends it.
const tmdbInvalidKey = `{"success":false,"status_code":7,"status_message":"Invalid API key: You must be granted a valid key."}`

const (
	errorInfoType  = "type.googleapis.com/google.rpc.ErrorInfo"
	badRequestType = "type.googleapis.com/google.rpc.BadRequest"
)

// newServer serves gateway.New(service.New(), opts...) over a real
// loopback HTTP server for the test.
func newServer(t *testing.T, opts ...gateway.Option) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(gateway.New(service.New(), opts...))
	t.Cleanup(ts.Close)
	return ts
}

// do sends one request, with the Content-Type contentType unless it is
// empty, and returns the status, the headers and the body of the response.
func do(t *testing.T, ts *httptest.Server, method, path, ctype string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	var header http.Header
	if ctype != "" {
		header = contentType(ctype)
	}
	return doHeader(t, ts, method, path, header, body)
}

// doHeader sends one request with the given headers and returns the
// status, the headers and the body of the response.
func doHeader(t *testing.T, ts *httptest.Server, method, path string, header http.Header, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, body)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, path, err)
	}
	maps.Copy(req.Header, header)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// contentType returns the headers of a request whose Content-Type is v.
func contentType(v string) http.Header {
	return http.Header{"Content-Type": {v}}
}

// unmarshal parses a JSON response into m as a REST client would, or
// fails the test.
func unmarshal(t *testing.T, what string, b []byte, m proto.Message) {
	t.Helper()
	if err := protojson.Unmarshal(b, m); err != nil {
		t.Fatalf("%s: protojson.Unmarshal(%s) into %T: %v", what, b, m, err)
	}
}

// detailTypes returns the "@type" of each detail of a google.rpc.Status in
// JSON, as the bytes on the wire have them.
func detailTypes(t *testing.T, what string, b []byte) []string {
	t.Helper()
	var st struct {
		Details []map[string]any `json:"details"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%s: json.Unmarshal(%s): %v", what, b, err)
	}
	var types []string
	for _, d := range st.Details {
		typ, _ := d["@type"].(string)
		types = append(types, typ)
	}
	return types
}

// errorInfo returns the one google.rpc.ErrorInfo among the details of st,
// or nil if it has none; it fails the test if st has several.
func errorInfo(t *testing.T, what string, st *spb.Status) *errdetails.ErrorInfo {
	t.Helper()
	var found *errdetails.ErrorInfo
	for _, d := range st.GetDetails() {
		info := new(errdetails.ErrorInfo)
		if !d.MessageIs(info) {
			continue
		}
		if found != nil {
			t.Errorf("%s: details hold more than one ErrorInfo: %v", what, st.GetDetails())
		}
		if err := d.UnmarshalTo(info); err != nil {
			t.Fatalf("%s: unmarshal ErrorInfo detail: %v", what, err)
		}
		found = info
	}
	return found
}

// badRequest returns the one google.rpc.BadRequest among the details of
// st, or nil if it has none.
func badRequest(t *testing.T, what string, st *spb.Status) *errdetails.BadRequest {
	t.Helper()
	for _, d := range st.GetDetails() {
		br := new(errdetails.BadRequest)
		if !d.MessageIs(br) {
			continue
		}
		if err := d.UnmarshalTo(br); err != nil {
			t.Fatalf("%s: unmarshal BadRequest detail: %v", what, err)
		}
		return br
	}
	return nil
}

// countType returns how many details of a google.rpc.Status in JSON have
// the "@type" typ.
func countType(t *testing.T, what string, b []byte, typ string) int {
	t.Helper()
	var n int
	for _, got := range detailTypes(t, what, b) {
		if got == typ {
			n++
		}
	}
	return n
}

func TestLookup(t *testing.T) {
	ts := newServer(t)
	const path = "/v1/statuses/7"
	sc, header, body := do(t, ts, http.MethodGet, path, "", nil)
	if sc != http.StatusOK {
		t.Fatalf("GET %s = %d %s; want %d", path, sc, body, http.StatusOK)
	}
	if ctype := header.Get("Content-Type"); ctype != "application/json" {
		t.Errorf("GET %s: Content-Type = %q; want application/json", path, ctype)
	}
	var resp tmdbstatusv1.LookupResponse
	unmarshal(t, "GET "+path, body, &resp)
	want := &tmdbstatusv1.StatusEntry{
		Status:     tmdbstatusv1.TmdbStatus_TMDB_STATUS_INVALID_API_KEY,
		Code:       7,
		HttpStatus: 401,
		Message:    "Invalid API key: You must be granted a valid key.",
		GrpcCode:   code.Code_UNAUTHENTICATED,
		Reason:     "INVALID_API_KEY",
	}
	if diff := cmp.Diff(want, resp.GetEntry(), protocmp.Transform()); diff != "" {
		t.Errorf("GET %s: entry mismatch (-want +got):\n%s", path, diff)
	}
	// Scalars at their default value are in the JSON too (EmitDefaultValues),
	// which REST clients may rely on.
	if !strings.Contains(string(body), `"retryable":false`) {
		t.Errorf("GET %s = %s; want \"retryable\":false present", path, body)
	}
}

func TestListStatuses(t *testing.T) {
	ts := newServer(t)
	const path = "/v1/statuses"
	code, header, body := do(t, ts, http.MethodGet, path, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s; want %d", path, code, body, http.StatusOK)
	}
	if ctype := header.Get("Content-Type"); ctype != "application/json" {
		t.Errorf("GET %s: Content-Type = %q; want application/json", path, ctype)
	}
	var resp tmdbstatusv1.ListStatusesResponse
	unmarshal(t, "GET "+path, body, &resp)
	// Every TmdbStatus value but UNSPECIFIED, in code order.
	values := tmdbstatusv1.TmdbStatus(0).Descriptor().Values()
	if got, want := len(resp.GetEntries()), values.Len()-1; got != want {
		t.Fatalf("GET %s: %d entries; want %d", path, got, want)
	}
	for i, e := range resp.GetEntries() {
		if want := int32(i + 1); e.GetCode() != want || int32(e.GetStatus()) != want {
			t.Errorf("GET %s: entries[%d] has code %d, status %v; want code %d", path, i, e.GetCode(), e.GetStatus(), want)
		}
		if e.GetReason() == "" || e.GetMessage() == "" || e.GetHttpStatus() == 0 {
			t.Errorf("GET %s: entries[%d] = %v; want reason, message and http_status set", path, i, e)
		}
	}
}

func TestTranslate(t *testing.T) {
	const path = "/v1/statuses:translate"
	tests := []struct {
		name       string
		body       string
		wantCode   codes.Code
		wantReason string // ErrorInfo reason in domain api.themoviedb.org; "" for none.
		wantEntry  int32  // Code of the entry; 0 for none.
	}{
		{
			name:       "TMDB body as it is",
			body:       tmdbInvalidKey,
			wantCode:   codes.Unauthenticated,
			wantReason: "INVALID_API_KEY",
			wantEntry:  7,
		},
		{
			name:       "TMDB body with fields the proto lacks",
			body:       `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40).","request_id":"abc","extra":{"a":[1,2]}}`,
			wantCode:   codes.ResourceExhausted,
			wantReason: "REQUEST_LIMIT_EXCEEDED",
			wantEntry:  25,
		},
		{
			name:       "raw body in the body field",
			body:       `{"http_status":401,"body":` + jsonString(tmdbInvalidKey) + `}`,
			wantCode:   codes.Unauthenticated,
			wantReason: "INVALID_API_KEY",
			wantEntry:  7,
		},
		{
			name:      "success",
			body:      `{"success":true,"status_code":1,"status_message":"Success."}`,
			wantCode:  codes.OK,
			wantEntry: 1,
		},
	}
	ts := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, header, body := do(t, ts, http.MethodPost, path, "application/json", strings.NewReader(tt.body))
			if code != http.StatusOK {
				t.Fatalf("POST %s %s = %d %s; want %d", path, tt.body, code, body, http.StatusOK)
			}
			if ctype := header.Get("Content-Type"); ctype != "application/json" {
				t.Errorf("POST %s: Content-Type = %q; want application/json", path, ctype)
			}
			var resp tmdbstatusv1.TranslateResponse
			unmarshal(t, "POST "+path, body, &resp)
			st := resp.GetStatus()
			if got := codes.Code(st.GetCode()); got != tt.wantCode {
				t.Errorf("POST %s %s: status.code = %v; want %v", path, tt.body, got, tt.wantCode)
			}
			if got := resp.GetEntry().GetCode(); got != tt.wantEntry {
				t.Errorf("POST %s %s: entry.code = %d; want %d", path, tt.body, got, tt.wantEntry)
			}
			info := errorInfo(t, "POST "+path, st)
			if tt.wantReason == "" {
				if info != nil {
					t.Errorf("POST %s %s: ErrorInfo %v; want none", path, tt.body, info)
				}
				return
			}
			wantInfo := &errdetails.ErrorInfo{Reason: tt.wantReason, Domain: service.Domain}
			if diff := cmp.Diff(wantInfo, info, protocmp.Transform(), protocmp.IgnoreFields(info, "metadata")); diff != "" {
				t.Errorf("POST %s %s: ErrorInfo mismatch (-want +got):\n%s", path, tt.body, diff)
			}
			var wire struct {
				Status json.RawMessage `json:"status"`
			}
			if err := json.Unmarshal(body, &wire); err != nil {
				t.Fatalf("POST %s: json.Unmarshal(%s): %v", path, body, err)
			}
			if types := detailTypes(t, "POST "+path, wire.Status); !slices.Contains(types, errorInfoType) {
				t.Errorf("POST %s %s: status.details @types = %q; want %s among them", path, tt.body, types, errorInfoType)
			}
		})
	}
}

// TestTranslateTMDBBody is the case the REST endpoint is for: a TMDB error
// body posted as it came, checked on the JSON a client receives.
func TestTranslateTMDBBody(t *testing.T) {
	ts := newServer(t)
	const path = "/v1/statuses:translate"
	code, _, body := do(t, ts, http.MethodPost, path, "application/json", strings.NewReader(tmdbInvalidKey))
	if code != http.StatusOK {
		t.Fatalf("POST %s = %d %s; want %d", path, code, body, http.StatusOK)
	}
	var got struct {
		Status struct {
			Code    int              `json:"code"`
			Message string           `json:"message"`
			Details []map[string]any `json:"details"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("POST %s: json.Unmarshal(%s): %v", path, body, err)
	}
	if got.Status.Code != 16 {
		t.Errorf("POST %s: status.code = %d; want 16 (UNAUTHENTICATED)", path, got.Status.Code)
	}
	if want := "Invalid API key: You must be granted a valid key."; got.Status.Message != want {
		t.Errorf("POST %s: status.message = %q; want %q", path, got.Status.Message, want)
	}
	var infos int
	for _, d := range got.Status.Details {
		if d["@type"] != errorInfoType {
			continue
		}
		infos++
		if d["reason"] != "INVALID_API_KEY" || d["domain"] != "api.themoviedb.org" {
			t.Errorf("POST %s: ErrorInfo = %v; want reason INVALID_API_KEY, domain api.themoviedb.org", path, d)
		}
	}
	if infos != 1 {
		t.Errorf("POST %s: %d ErrorInfo details in %s; want 1", path, infos, body)
	}
}

// wantError is what an error response must hold, beyond the google.rpc.Status
// in JSON and the one ErrorInfo that every error has.
type wantError struct {
	http   int
	code   codes.Code
	domain string   // ErrorInfo domain.
	reason string   // ErrorInfo reason.
	types  []string // The details' @type, in order.
	// Checked only when set.
	message  string            // The status message.
	metadata map[string]string // The ErrorInfo metadata, all of it.
	field    string            // The field of the one BadRequest violation.
	// Response headers; a header absent here must be absent from the response.
	allow, acceptPost string
}

// gatewayErr is an error of the gateway itself: in the domain
// service.ServiceDomain, with an ErrorInfo and, for field, a BadRequest.
func gatewayErr(httpStatus int, c codes.Code, reason, message string, metadata map[string]string, field string) wantError {
	types := []string{errorInfoType}
	if field != "" {
		types = append(types, badRequestType)
	}
	return wantError{
		http: httpStatus, code: c, domain: service.ServiceDomain, reason: reason, types: types,
		message: message, metadata: metadata, field: field,
	}
}

// malformed is a MALFORMED_REQUEST error of the gateway, 400.
func malformed(message string, metadata map[string]string, field string) wantError {
	return gatewayErr(http.StatusBadRequest, codes.InvalidArgument, service.ReasonMalformedRequest, message, metadata, field)
}

// notAllowed is a 405 of the gateway, whose Allow header is allow.
func notAllowed(allow string) wantError {
	w := gatewayErr(http.StatusMethodNotAllowed, codes.Unimplemented, service.ReasonMethodNotAllowed, "Method Not Allowed", map[string]string{}, "")
	w.allow = allow
	return w
}

// routeNotFound is a 404 of the gateway.
var routeNotFound = gatewayErr(http.StatusNotFound, codes.NotFound, service.ReasonRouteNotFound, "Not Found", map[string]string{}, "")

// unsupportedType is the 415 of the gateway for the Content-Type ctype.
func unsupportedType(ctype string) wantError {
	w := gatewayErr(http.StatusUnsupportedMediaType, codes.InvalidArgument, service.ReasonMalformedRequest,
		fmt.Sprintf("Content-Type %q is not application/json", ctype), map[string]string{"contentType": ctype}, "")
	w.acceptPost = "application/json"
	return w
}

// serviceErr is an error of the service, with its ErrorInfo in
// service.ServiceDomain and a BadRequest unless it is NOT_FOUND.
func serviceErr(httpStatus int, c codes.Code, reason string) wantError {
	types := []string{errorInfoType, badRequestType}
	if c == codes.NotFound {
		types = types[:1]
	}
	return wantError{http: httpStatus, code: c, domain: service.ServiceDomain, reason: reason, types: types}
}

// checkError checks an error response against want.
func checkError(t *testing.T, what string, code int, header http.Header, body []byte, want wantError) {
	t.Helper()
	checkStatus(t, what, code, header.Get("Content-Type"), body, want.http, want.code)
	var st spb.Status
	unmarshal(t, what, body, &st)
	if want.message != "" && st.GetMessage() != want.message {
		t.Errorf("%s: message = %q; want %q", what, st.GetMessage(), want.message)
	}
	if types := detailTypes(t, what, body); !slices.Equal(types, want.types) {
		t.Errorf("%s: details @types = %q; want %q", what, types, want.types)
	}
	if infos := countType(t, what, body, errorInfoType); infos != 1 {
		t.Errorf("%s = %s: %d ErrorInfo details; want exactly 1", what, body, infos)
	}
	info := errorInfo(t, what, &st)
	opts := []cmp.Option{protocmp.Transform()}
	if want.metadata == nil { // Not checked.
		opts = append(opts, protocmp.IgnoreFields(info, "metadata"))
	}
	wantInfo := &errdetails.ErrorInfo{Domain: want.domain, Reason: want.reason, Metadata: want.metadata}
	if diff := cmp.Diff(wantInfo, info, opts...); diff != "" {
		t.Errorf("%s: ErrorInfo mismatch (-want +got):\n%s", what, diff)
	}
	if want.field != "" {
		wantBR := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: want.field, Reason: want.reason}}}
		ignoreDescription := protocmp.IgnoreFields(&errdetails.BadRequest_FieldViolation{}, "description")
		if diff := cmp.Diff(wantBR, badRequest(t, what, &st), protocmp.Transform(), ignoreDescription); diff != "" {
			t.Errorf("%s: BadRequest mismatch (-want +got):\n%s", what, diff)
		}
	}
	if bytes.Contains(body, []byte("null")) {
		t.Errorf("%s = %s; want no null in it", what, body)
	}
	for _, h := range []struct{ name, want string }{
		{"Allow", want.allow}, {"Accept-Post", want.acceptPost},
		{"Cache-Control", gateway.ErrorCacheControl}, {"X-Content-Type-Options", "nosniff"}, {"ETag", ""},
	} {
		if got := header.Get(h.name); got != h.want {
			t.Errorf("%s: %s header = %q; want %q", what, h.name, got, h.want)
		}
	}
}

func TestErrors(t *testing.T) {
	const translate = "/v1/statuses:translate"
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		want   wantError
	}{
		// Errors of the service: passed through as they are.
		{
			name: "unknown code", method: http.MethodGet, path: "/v1/statuses/99",
			want: serviceErr(http.StatusNotFound, codes.NotFound, service.ReasonUnknownCode),
		},
		{
			name: "zero code", method: http.MethodGet, path: "/v1/statuses/0",
			want: serviceErr(http.StatusBadRequest, codes.InvalidArgument, service.ReasonInvalidCode),
		},
		{
			name: "negative code", method: http.MethodGet, path: "/v1/statuses/-3",
			want: serviceErr(http.StatusBadRequest, codes.InvalidArgument, service.ReasonInvalidCode),
		},
		{
			name: "nothing to translate", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{}`,
			want: serviceErr(http.StatusBadRequest, codes.InvalidArgument, service.ReasonMissingStatus),
		},
		{
			name: "no body to translate", method: http.MethodPost, path: translate,
			want: serviceErr(http.StatusBadRequest, codes.InvalidArgument, service.ReasonMissingStatus),
		},
		{
			name: "HTTP status out of range", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"http_status": 700}`,
			want: serviceErr(http.StatusBadRequest, codes.InvalidArgument, service.ReasonInvalidHTTPStatus),
		},

		// A {code} that does not parse.
		{
			name: "code not a number", method: http.MethodGet, path: "/v1/statuses/abc",
			want: malformed(`code "abc" is not an integer`, map[string]string{"code": "abc"}, "code"),
		},
		{
			name: "code with a fraction", method: http.MethodGet, path: "/v1/statuses/7.5",
			want: malformed(`code "7.5" is not an integer`, map[string]string{"code": "7.5"}, "code"),
		},
		{
			name: "code escaped", method: http.MethodGet, path: "/v1/statuses/a%20b",
			want: malformed(`code "a b" is not an integer`, map[string]string{"code": "a b"}, "code"),
		},
		{
			name: "code empty", method: http.MethodGet, path: "/v1/statuses/",
			want: malformed(`code "" is not an integer`, map[string]string{"code": ""}, "code"),
		},
		{
			name: "code over int32", method: http.MethodGet, path: "/v1/statuses/99999999999",
			want: malformed(`code "99999999999" is out of range`, map[string]string{"code": "99999999999"}, "code"),
		},
		{
			name: "code just over int32", method: http.MethodGet, path: "/v1/statuses/2147483648",
			want: malformed(`code "2147483648" is out of range`, map[string]string{"code": "2147483648"}, "code"),
		},
		{
			name: "code under int32", method: http.MethodGet, path: "/v1/statuses/-99999999999",
			want: malformed(`code "-99999999999" is out of range`, map[string]string{"code": "-99999999999"}, "code"),
		},

		// A body that does not decode.
		{
			name: "malformed JSON", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"status_code": 7`,
			want: malformed("request body is not valid JSON: unexpected EOF", map[string]string{}, ""),
		},
		{
			name: "JSON array", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `[7]`,
			want: malformed("request body is not a JSON object", map[string]string{}, ""),
		},
		{
			name: "JSON null", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `null`,
			want: malformed("request body is not a JSON object", map[string]string{}, ""),
		},
		{
			name: "string for an int32", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"status_code": "seven"}`,
			want: malformed("request body: invalid value for status_code (int32)", map[string]string{"field": "status_code"}, "status_code"),
		},
		{
			name: "string for an int32, JSON name", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"success": false, "statusCode": "seven"}`,
			want: malformed("request body: invalid value for status_code (int32)", map[string]string{"field": "status_code"}, "status_code"),
		},
		{
			name: "int32 out of range", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"status_code": 7, "http_status": 99999999999}`,
			want: malformed("request body: invalid value for http_status (int32)", map[string]string{"field": "http_status"}, "http_status"),
		},
		{
			name: "string for a list", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"status_code": 7, "errors": "page must be 1 or more"}`,
			want: malformed("request body: invalid value for errors (repeated string)", map[string]string{"field": "errors"}, "errors"),
		},
		{
			name: "string for a bool", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"success": "false", "status_code": 7}`,
			want: malformed("request body: invalid value for success (bool)", map[string]string{"field": "success"}, "success"),
		},
		{
			// Each field is fine alone: no field to name, grpc-gateway's message kept.
			name: "field given twice", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"status_code": 7, "statusCode": 7}`,
			want: malformed("", map[string]string{}, ""),
		},
		{
			name: "key given twice", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: `{"status_code": 7, "status_code": 8}`,
			want: malformed("request body: a field is given twice", map[string]string{}, ""),
		},

		// A header that does not decode.
		{
			name: "bad Grpc-Timeout", method: http.MethodGet, path: "/v1/statuses/7",
			header: http.Header{"Grpc-Timeout": {"soon"}},
			want:   malformed("invalid grpc-timeout: soon", map[string]string{}, ""),
		},

		// No route.
		{name: "unknown path", method: http.MethodGet, path: "/v1/nope", want: routeNotFound},
		{name: "root", method: http.MethodGet, path: "/", want: routeNotFound},
		{name: "path too long", method: http.MethodGet, path: "/v1/statuses/7/8", want: routeNotFound},
		{
			name: "unknown verb", method: http.MethodPost, path: "/v1/statuses:explain",
			header: contentType("application/json"), body: `{}`, want: routeNotFound,
		},
		{
			// The route comes first: the Content-Type of a request to no route does not matter.
			name: "unknown path, text", method: http.MethodPost, path: "/v1/nope",
			header: contentType("text/plain"), body: `{}`, want: routeNotFound,
		},

		// The wrong method.
		{name: "DELETE a status", method: http.MethodDelete, path: "/v1/statuses/7", want: notAllowed("GET, HEAD, OPTIONS")},
		{name: "DELETE a bad status", method: http.MethodDelete, path: "/v1/statuses/abc", want: notAllowed("GET, HEAD, OPTIONS")},
		{
			name: "PUT the list", method: http.MethodPut, path: "/v1/statuses",
			header: contentType("application/json"), body: `{}`, want: notAllowed("GET, HEAD, OPTIONS"),
		},
		{name: "GET translate", method: http.MethodGet, path: translate, want: notAllowed("POST, OPTIONS")},
		{
			// grpc-gateway's path-length fallback would serve this as the GET.
			name: "form POST to a GET path", method: http.MethodPost, path: "/v1/statuses/7",
			header: contentType("application/x-www-form-urlencoded"), body: `code=7`, want: notAllowed("GET, HEAD, OPTIONS"),
		},

		// The wrong Content-Type.
		{
			name: "text", method: http.MethodPost, path: translate,
			header: contentType("text/plain"), body: tmdbInvalidKey, want: unsupportedType("text/plain"),
		},
		{
			// What `curl -d` sends, with a body that is not JSON.
			name: "form", method: http.MethodPost, path: translate,
			header: contentType("application/x-www-form-urlencoded"), body: "status_code=7",
			want: unsupportedType("application/x-www-form-urlencoded"),
		},

		// Too large.
		{
			name: "body over the default limit", method: http.MethodPost, path: translate,
			header: contentType("application/json"), body: strings.Repeat(" ", gateway.DefaultMaxBodyBytes) + tmdbInvalidKey,
			want: gatewayErr(http.StatusRequestEntityTooLarge, codes.ResourceExhausted, service.ReasonBodyTooLarge,
				fmt.Sprintf("request body larger than %d bytes", gateway.DefaultMaxBodyBytes),
				map[string]string{"maxBodyBytes": strconv.Itoa(gateway.DefaultMaxBodyBytes)}, ""),
		},
	}
	ts := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			code, header, got := doHeader(t, ts, tt.method, tt.path, tt.header, body)
			checkError(t, tt.method+" "+tt.path, code, header, got, tt.want)
		})
	}
}

// TestServiceErrorsUntouched checks that the errors of the service reach
// the client as the service made them, byte for byte.
func TestServiceErrorsUntouched(t *testing.T) {
	srv := service.New()
	tests := []struct {
		method, path, body string
		call               func() error // The same request, to the service itself.
	}{
		{http.MethodGet, "/v1/statuses/99", "", func() error {
			_, err := srv.Lookup(t.Context(), &tmdbstatusv1.LookupRequest{Code: 99})
			return err
		}},
		{http.MethodGet, "/v1/statuses/-3", "", func() error {
			_, err := srv.Lookup(t.Context(), &tmdbstatusv1.LookupRequest{Code: -3})
			return err
		}},
		{http.MethodPost, "/v1/statuses:translate", `{"success":false}`, func() error {
			_, err := srv.Translate(t.Context(), &tmdbstatusv1.TranslateRequest{})
			return err
		}},
		{http.MethodPost, "/v1/statuses:translate", `{"http_status":700}`, func() error {
			_, err := srv.Translate(t.Context(), &tmdbstatusv1.TranslateRequest{HttpStatus: 700})
			return err
		}},
	}
	ts := newServer(t)
	for _, tt := range tests {
		what := tt.method + " " + tt.path + " " + tt.body
		err := tt.call()
		if err == nil {
			t.Fatalf("%s: the service answered no error", what)
		}
		want, merr := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(status.Convert(err).Proto())
		if merr != nil {
			t.Fatalf("%s: marshal the service's error: %v", what, merr)
		}
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		_, _, got := do(t, ts, tt.method, tt.path, "application/json", body)
		if !bytes.Equal(got, want) {
			t.Errorf("%s = %s; want the service's error as it is: %s", what, got, want)
		}
	}
}

// TestWriteError checks that WriteError answers as the gateway answers the
// same error of its own: status, headers and body.
func TestWriteError(t *testing.T) {
	ts := newServer(t)
	wantCode, wantHeader, wantBody := do(t, ts, http.MethodGet, "/v1/statuses/99", "", nil)
	_, err := service.New().Lookup(t.Context(), &tmdbstatusv1.LookupRequest{Code: 99})

	rec := httptest.NewRecorder()
	rec.Header().Set("Etag", `"a success's"`) // Set before the failure.
	gateway.WriteError(rec, httptest.NewRequest(http.MethodGet, "/anything", nil), status.Convert(err))
	if rec.Code != wantCode || !bytes.Equal(rec.Body.Bytes(), wantBody) {
		t.Errorf("WriteError = %d %s; want the gateway's %d %s", rec.Code, rec.Body, wantCode, wantBody)
	}
	for _, name := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Etag"} {
		if got, want := rec.Header().Get(name), wantHeader.Get(name); got != want {
			t.Errorf("WriteError: %s header = %q; want the gateway's %q", name, got, want)
		}
	}
}

// TestRequestTargetNotAPath sends a request whose target is not a path,
// which the mux refuses before routing.
func TestRequestTargetNotAPath(t *testing.T) {
	ts := newServer(t)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial %s: %v", ts.Listener.Addr(), err)
	}
	defer conn.Close()
	const what = "GET *"
	if _, err := io.WriteString(conn, "GET * HTTP/1.1\r\nHost: tmdbstatus\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatalf("%s: write request: %v", what, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: read response: %v", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", what, err)
	}
	checkError(t, what, resp.StatusCode, resp.Header, body, malformed("Bad Request", map[string]string{}, ""))
}

// TestAllow checks the Allow header of every 405 against what the server
// does: for each path, the methods it serves are exactly those Allow lists.
func TestAllow(t *testing.T) {
	ts := newServer(t)
	methods := []string{
		http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions,
	}
	tests := []struct {
		path  string
		allow string // The Allow header of its 405s; "" if none can be.
	}{
		{"/v1/statuses/7", "GET, HEAD, OPTIONS"},
		{"/v1/statuses/abc", "GET, HEAD, OPTIONS"}, // Routed, then refused (400).
		{"/v1/statuses/", "GET, HEAD, OPTIONS"},
		{"/v1/statuses/7:translate", "GET, HEAD, OPTIONS"},
		{"/v1/statuses", "GET, HEAD, OPTIONS"},
		{"/v1/statuses:translate", "POST, OPTIONS"},
		{"/v1/nope", ""},
		{"/v1/statuses/7/8", ""},
		{"/v1/statuses:translate:translate", ""},
		{"/", ""},
	}
	for _, tt := range tests {
		var served []string
		for _, m := range methods {
			code, header, body := doHeader(t, ts, m, tt.path, contentType("application/json"), strings.NewReader(tmdbInvalidKey))
			what := m + " " + tt.path
			switch code {
			case http.StatusMethodNotAllowed:
				if got := header.Get("Allow"); got != tt.allow {
					t.Errorf("%s = %d %s: Allow = %q; want %q", what, code, body, got, tt.allow)
				}
			case http.StatusNotFound:
				if tt.allow != "" {
					t.Errorf("%s = %d %s; want a route found", what, code, body)
				}
			default:
				served = append(served, m)
			}
			if m == http.MethodOptions && code == http.StatusNoContent {
				// RFC 9110, section 9.3.7: OPTIONS tells what the path allows.
				if got := header.Get("Allow"); got != tt.allow {
					t.Errorf("%s = %d: Allow = %q; want %q", what, code, got, tt.allow)
				}
			} else if code != http.StatusMethodNotAllowed && header.Get("Allow") != "" {
				t.Errorf("%s = %d: Allow = %q; want none but on a 405 or an OPTIONS", what, code, header.Get("Allow"))
			}
		}
		if got := strings.Join(served, ", "); got != tt.allow {
			t.Errorf("%s: served for %q; want for the methods in Allow, %q", tt.path, got, tt.allow)
		}
	}
}

// TestContentType checks which Content-Types Translate accepts as JSON.
func TestContentType(t *testing.T) {
	const path = "/v1/statuses:translate"
	tests := []struct {
		ctype string // "" for none.
		want  int
	}{
		{"", http.StatusOK},
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"Application/JSON;charset=UTF-8", http.StatusOK},
		{"application/json; charset", http.StatusOK}, // A malformed parameter.
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/json", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusOK}, // What `curl -d` sends: the body is JSON.
		{"application/x-www-form-urlencoded; charset=utf-8", http.StatusOK},
		{"text/html", http.StatusUnsupportedMediaType},
		{"application/xml", http.StatusUnsupportedMediaType},
		{"application/grpc", http.StatusUnsupportedMediaType},
		{"application/merge-patch+json", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"json", http.StatusUnsupportedMediaType},
	}
	ts := newServer(t)
	for _, tt := range tests {
		what := fmt.Sprintf("POST %s (Content-Type %q)", path, tt.ctype)
		code, header, body := do(t, ts, http.MethodPost, path, tt.ctype, strings.NewReader(tmdbInvalidKey))
		if code != tt.want {
			t.Errorf("%s = %d %s; want %d", what, code, body, tt.want)
			continue
		}
		if tt.want == http.StatusUnsupportedMediaType {
			checkError(t, what, code, header, body, unsupportedType(tt.ctype))
		}
	}

	// The Content-Type of a request without a body does not matter.
	if code, _, body := do(t, ts, http.MethodGet, "/v1/statuses/7", "text/plain", nil); code != http.StatusOK {
		t.Errorf("GET /v1/statuses/7 (Content-Type text/plain) = %d %s; want %d", code, body, http.StatusOK)
	}
}

// TestJSON checks the JSON the marshaler writes: scalars at their default
// value written out, unset messages left out rather than null.
func TestJSON(t *testing.T) {
	ts := newServer(t)
	tests := []struct {
		method, path, body string
		wantDetail         string // The @type of a detail the answer must hold.
		wantIn             string // Text the answer must hold.
	}{
		// A BadRequest whose field violations have no localized_message.
		{http.MethodPost, "/v1/statuses:translate", `{"status_code":22}`, badRequestType, `"field":"page"`},
		{http.MethodPost, "/v1/statuses:translate", `{"http_status":422,"errors":["page must be less than or equal to 500"]}`, badRequestType, `"description":"page must be less than or equal to 500"`},
		{http.MethodGet, "/v1/statuses/7", "", "", `"retryable":false`},
	}
	for _, tt := range tests {
		what := tt.method + " " + tt.path + " " + tt.body
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		code, _, got := do(t, ts, tt.method, tt.path, "application/json", body)
		if code != http.StatusOK {
			t.Fatalf("%s = %d %s; want %d", what, code, got, http.StatusOK)
		}
		// protojson puts a space after some commas and colons, at random.
		compact := strings.ReplaceAll(string(got), " ", "")
		if !strings.Contains(compact, strings.ReplaceAll(tt.wantIn, " ", "")) {
			t.Errorf("%s = %s; want %s in it", what, got, tt.wantIn)
		}
		if tt.wantDetail != "" {
			var wire struct {
				Status json.RawMessage `json:"status"`
			}
			if err := json.Unmarshal(got, &wire); err != nil {
				t.Fatalf("%s: json.Unmarshal(%s): %v", what, got, err)
			}
			if types := detailTypes(t, what, wire.Status); !slices.Contains(types, tt.wantDetail) {
				t.Errorf("%s: status.details @types = %q; want %s among them", what, types, tt.wantDetail)
			}
		}
		if bytes.Contains(got, []byte("null")) {
			t.Errorf("%s = %s; want no null in it", what, got)
		}
	}
}

// TestMaxBodyBytes checks WithMaxBodyBytes at its boundary, with the length
// of the body known in advance (Content-Length) and not (chunked).
func TestMaxBodyBytes(t *testing.T) {
	const path = "/v1/statuses:translate"
	limit := int64(len(tmdbInvalidKey))
	ts := newServer(t, gateway.WithMaxBodyBytes(limit))
	tests := []struct {
		name     string
		body     io.Reader
		wantHTTP int
		wantCode codes.Code
	}{
		{"at the limit", strings.NewReader(tmdbInvalidKey), http.StatusOK, codes.OK},
		{"at the limit, chunked", onlyReader{strings.NewReader(tmdbInvalidKey)}, http.StatusOK, codes.OK},
		{"over the limit", strings.NewReader(tmdbInvalidKey + " "), http.StatusRequestEntityTooLarge, codes.ResourceExhausted},
		{"over the limit, chunked", onlyReader{strings.NewReader(tmdbInvalidKey + " ")}, http.StatusRequestEntityTooLarge, codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, header, got := do(t, ts, http.MethodPost, path, "application/json", tt.body)
			if tt.wantHTTP == http.StatusOK {
				if code != http.StatusOK {
					t.Errorf("POST %s = %d %s; want %d", path, code, got, http.StatusOK)
				}
				return
			}
			checkStatus(t, "POST "+path, code, header.Get("Content-Type"), got, tt.wantHTTP, tt.wantCode)
		})
	}

	// A GET has no body: a zero limit refuses nothing it needs.
	zero := newServer(t, gateway.WithMaxBodyBytes(-1))
	if code, _, got := do(t, zero, http.MethodGet, "/v1/statuses/7", "", nil); code != http.StatusOK {
		t.Errorf("WithMaxBodyBytes(-1): GET /v1/statuses/7 = %d %s; want %d", code, got, http.StatusOK)
	}
	code, header, got := do(t, zero, http.MethodPost, path, "application/json", strings.NewReader("{}"))
	checkStatus(t, "WithMaxBodyBytes(-1): POST "+path, code, header.Get("Content-Type"), got, http.StatusRequestEntityTooLarge, codes.ResourceExhausted)
}

// checkStatus checks that a response is an error with a google.rpc.Status
// in JSON for its body.
func checkStatus(t *testing.T, what string, code int, ctype string, body []byte, wantHTTP int, wantCode codes.Code) {
	t.Helper()
	if code != wantHTTP {
		t.Errorf("%s = %d %s; want %d", what, code, body, wantHTTP)
	}
	if ctype != "application/json" {
		t.Errorf("%s: Content-Type = %q; want application/json", what, ctype)
	}
	var st spb.Status
	unmarshal(t, what, body, &st)
	if got := codes.Code(st.GetCode()); got != wantCode {
		t.Errorf("%s: code = %v (%s); want %v", what, got, body, wantCode)
	}
	if st.GetMessage() == "" {
		t.Errorf("%s = %s; want a message", what, body)
	}
}

// onlyReader hides the type of a reader, so that http.NewRequest cannot
// learn the body's length and the client sends it chunked.
type onlyReader struct{ io.Reader }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
