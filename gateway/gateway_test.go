package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

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

// do sends one request and returns the status, the Content-Type and the
// body of the response.
func do(t *testing.T, ts *httptest.Server, method, path, contentType string, body io.Reader) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, body)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
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

func TestLookup(t *testing.T) {
	ts := newServer(t)
	const path = "/v1/statuses/7"
	sc, ctype, body := do(t, ts, http.MethodGet, path, "", nil)
	if sc != http.StatusOK {
		t.Fatalf("GET %s = %d %s; want %d", path, sc, body, http.StatusOK)
	}
	if ctype != "application/json" {
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
	if got := resp.GetEntry(); !proto.Equal(got, want) {
		t.Errorf("GET %s: entry = %v; want %v", path, got, want)
	}
	// Unpopulated fields are in the JSON too: the default marshaler's
	// EmitUnpopulated, which REST clients may rely on.
	if !strings.Contains(string(body), `"retryable":false`) {
		t.Errorf("GET %s = %s; want \"retryable\":false present", path, body)
	}
}

func TestListStatuses(t *testing.T) {
	ts := newServer(t)
	const path = "/v1/statuses"
	code, ctype, body := do(t, ts, http.MethodGet, path, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s; want %d", path, code, body, http.StatusOK)
	}
	if ctype != "application/json" {
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
			code, ctype, body := do(t, ts, http.MethodPost, path, "application/json", strings.NewReader(tt.body))
			if code != http.StatusOK {
				t.Fatalf("POST %s %s = %d %s; want %d", path, tt.body, code, body, http.StatusOK)
			}
			if ctype != "application/json" {
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
			if info.GetReason() != tt.wantReason || info.GetDomain() != service.Domain {
				t.Errorf("POST %s %s: ErrorInfo = %v; want reason %s, domain %s", path, tt.body, info, tt.wantReason, service.Domain)
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

func TestErrors(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		wantHTTP    int
		wantCode    codes.Code
		wantDomain  string   // ErrorInfo domain; "" for no ErrorInfo.
		wantReason  string   // ErrorInfo reason.
		wantTypes   []string // The details' @type, in order.
	}{
		{
			name: "unknown code", method: http.MethodGet, path: "/v1/statuses/99",
			wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
			wantDomain: service.ServiceDomain, wantReason: service.ReasonUnknownCode,
			wantTypes: []string{errorInfoType},
		},
		{
			name: "zero code", method: http.MethodGet, path: "/v1/statuses/0",
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
			wantDomain: service.ServiceDomain, wantReason: service.ReasonInvalidCode,
			wantTypes: []string{errorInfoType, badRequestType},
		},
		{
			name: "negative code", method: http.MethodGet, path: "/v1/statuses/-3",
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
			wantDomain: service.ServiceDomain, wantReason: service.ReasonInvalidCode,
			wantTypes: []string{errorInfoType, badRequestType},
		},
		{
			name: "code not a number", method: http.MethodGet, path: "/v1/statuses/abc",
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
		},
		{
			name: "code out of int32", method: http.MethodGet, path: "/v1/statuses/4294967296",
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
		},
		{
			name: "nothing to translate", method: http.MethodPost, path: "/v1/statuses:translate",
			contentType: "application/json", body: `{}`,
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
			wantDomain: service.ServiceDomain, wantReason: service.ReasonMissingStatus,
			wantTypes: []string{errorInfoType, badRequestType},
		},
		{
			name: "no body to translate", method: http.MethodPost, path: "/v1/statuses:translate",
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
			wantDomain: service.ServiceDomain, wantReason: service.ReasonMissingStatus,
			wantTypes: []string{errorInfoType, badRequestType},
		},
		{
			name: "malformed JSON", method: http.MethodPost, path: "/v1/statuses:translate",
			contentType: "application/json", body: `{"status_code": 7`,
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
		},
		{
			name: "JSON of the wrong type", method: http.MethodPost, path: "/v1/statuses:translate",
			contentType: "application/json", body: `{"status_code": "seven"}`,
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
		},
		{
			name: "unknown path", method: http.MethodGet, path: "/v1/nope",
			wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
		},
		{
			name: "root", method: http.MethodGet, path: "/",
			wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
		},
		{
			name: "unknown verb", method: http.MethodPost, path: "/v1/statuses:explain",
			contentType: "application/json", body: `{}`,
			wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
		},
		{
			name: "DELETE a status", method: http.MethodDelete, path: "/v1/statuses/7",
			wantHTTP: http.StatusMethodNotAllowed, wantCode: codes.Unimplemented,
		},
		{
			name: "PUT the list", method: http.MethodPut, path: "/v1/statuses",
			contentType: "application/json", body: `{}`,
			wantHTTP: http.StatusMethodNotAllowed, wantCode: codes.Unimplemented,
		},
		{
			name: "GET translate", method: http.MethodGet, path: "/v1/statuses:translate",
			wantHTTP: http.StatusMethodNotAllowed, wantCode: codes.Unimplemented,
		},
		{
			// grpc-gateway's path-length fallback would serve this as the GET.
			name: "form POST to a GET path", method: http.MethodPost, path: "/v1/statuses/7",
			contentType: "application/x-www-form-urlencoded", body: `code=7`,
			wantHTTP: http.StatusMethodNotAllowed, wantCode: codes.Unimplemented,
		},
		{
			name: "body over the default limit", method: http.MethodPost, path: "/v1/statuses:translate",
			contentType: "application/json", body: strings.Repeat(" ", gateway.DefaultMaxBodyBytes) + tmdbInvalidKey,
			wantHTTP: http.StatusRequestEntityTooLarge, wantCode: codes.ResourceExhausted,
		},
	}
	ts := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			code, ctype, got := do(t, ts, tt.method, tt.path, tt.contentType, body)
			checkStatus(t, tt.method+" "+tt.path, code, ctype, got, tt.wantHTTP, tt.wantCode)
			var st spb.Status
			unmarshal(t, tt.method+" "+tt.path, got, &st)

			if types := detailTypes(t, tt.method+" "+tt.path, got); !slices.Equal(types, tt.wantTypes) {
				t.Errorf("%s %s: details @types = %q; want %q", tt.method, tt.path, types, tt.wantTypes)
			}
			info := errorInfo(t, tt.method+" "+tt.path, &st)
			switch {
			case tt.wantDomain == "" && info != nil:
				t.Errorf("%s %s: ErrorInfo = %v; want none", tt.method, tt.path, info)
			case tt.wantDomain != "" && (info.GetDomain() != tt.wantDomain || info.GetReason() != tt.wantReason):
				t.Errorf("%s %s: ErrorInfo = %v; want domain %s, reason %s", tt.method, tt.path, info, tt.wantDomain, tt.wantReason)
			}
		})
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
			code, ctype, got := do(t, ts, http.MethodPost, path, "application/json", tt.body)
			if tt.wantHTTP == http.StatusOK {
				if code != http.StatusOK {
					t.Errorf("POST %s = %d %s; want %d", path, code, got, http.StatusOK)
				}
				return
			}
			checkStatus(t, "POST "+path, code, ctype, got, tt.wantHTTP, tt.wantCode)
		})
	}

	// A GET has no body: a zero limit refuses nothing it needs.
	zero := newServer(t, gateway.WithMaxBodyBytes(-1))
	if code, _, got := do(t, zero, http.MethodGet, "/v1/statuses/7", "", nil); code != http.StatusOK {
		t.Errorf("WithMaxBodyBytes(-1): GET /v1/statuses/7 = %d %s; want %d", code, got, http.StatusOK)
	}
	code, ctype, got := do(t, zero, http.MethodPost, path, "application/json", strings.NewReader("{}"))
	checkStatus(t, "WithMaxBodyBytes(-1): POST "+path, code, ctype, got, http.StatusRequestEntityTooLarge, codes.ResourceExhausted)
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
