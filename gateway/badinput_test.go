package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// This file sends hostile input over both transports, each to a real
// loopback server: the REST gateway in an httptest server, the service in
// a grpc-go server with its default options, as the binary serves them.
// After each bad request, the next good one on the same connection must be
// answered normally.

// rawCodec sends a []byte request as it is, bytes a gRPC client would never
// marshal, and reads answers as protobuf. Its name makes the content-subtype
// "proto", so the server decodes the bytes with its protobuf codec.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (rawCodec) Unmarshal(data []byte, v any) error { return proto.Unmarshal(data, v.(proto.Message)) }

func (rawCodec) Name() string { return "proto" }

// newGRPC serves service.New over an in-memory gRPC connection and
// returns a client connection to it.
func newGRPC(t *testing.T) *grpc.ClientConn {
	t.Helper()
	srv := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(srv, service.New())
	return testutil.Bufconn(t, srv)
}

// Wire encodings of TranslateRequest fields, for requests a generated
// client cannot make.
func varintField(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func bytesField(num protowire.Number, b string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), b)
}

func join(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TranslateRequest field numbers.
const (
	fieldStatusCode    protowire.Number = 2
	fieldStatusMessage protowire.Number = 3
	fieldHTTPStatus    protowire.Number = 5
	fieldBody          protowire.Number = 7
)

// answer is what a request must get: an error with a code and, when the
// service or the gateway answers, an ErrorInfo reason; or a translation
// with a code and a reason. reason "" means no ErrorInfo: the framework
// (grpc-go, net/http) answered.
type answer struct {
	http   int               // REST
	code   codes.Code        // the RPC's error code, OK if it succeeds
	reason string            // the error's ErrorInfo reason
	md     map[string]string // the error's ErrorInfo metadata, if not nil
	// When the RPC succeeds: the translated status.
	statusCode   codes.Code
	statusReason string
}

// gRPC bad input: each request, sent as raw bytes to a method, and the
// answer it gets.
var grpcBadInputs = []struct {
	kind, name string
	method     string // full method name
	req        []byte
	want       answer
}{
	{"invalid UTF-8", "in body", translateMethod, bytesField(fieldBody, "{\"status_code\":7,\"status_message\":\"\xff\"}"),
		answer{code: codes.Internal}},
	{"invalid UTF-8", "in status_message", translateMethod, join(varintField(fieldStatusCode, 7), bytesField(fieldStatusMessage, "a\xc3")),
		answer{code: codes.Internal}},
	{"malformed", "not protobuf", translateMethod, []byte("{\"status_code\":7}"), answer{code: codes.Internal}},
	{"malformed", "truncated field", translateMethod, bytesField(fieldBody, "abcdef")[:4], answer{code: codes.Internal}},
	{"malformed", "field number zero", translateMethod, []byte{0x00, 0x07}, answer{code: codes.Internal}},
	{"wrong type", "bytes for status_code", translateMethod, bytesField(fieldStatusCode, "7"),
		answer{code: codes.InvalidArgument, reason: service.ReasonMissingStatus}},
	{"wrong type", "varint for body", translateMethod, varintField(fieldBody, 7),
		answer{code: codes.InvalidArgument, reason: service.ReasonMissingStatus}},
	// protobuf keeps the low 32 bits of an int32 sent wider: 2^32+7 is 7.
	{"out of int32 range", "status_code 2^32+7", translateMethod, varintField(fieldStatusCode, 1<<32+7),
		answer{statusCode: codes.Unauthenticated, statusReason: "INVALID_API_KEY"}},
	{"out of int32 range", "http_status 2^32+404", translateMethod, varintField(fieldHTTPStatus, 1<<32+404),
		answer{statusCode: codes.NotFound, statusReason: service.ReasonNoStatusCode}},
	{"out of int32 range", "http_status 2^31", translateMethod, varintField(fieldHTTPStatus, 1<<31),
		answer{code: codes.InvalidArgument, reason: service.ReasonInvalidHTTPStatus}},
	{"negative or zero", "status_code -1", translateMethod, varintField(fieldStatusCode, uint64(1<<64-1)),
		answer{statusCode: codes.Unknown, statusReason: service.ReasonUnknownStatusCode}},
	{"negative or zero", "status_code 0", translateMethod, varintField(fieldStatusCode, 0),
		answer{code: codes.InvalidArgument, reason: service.ReasonMissingStatus}},
	{"negative or zero", "http_status -1", translateMethod, varintField(fieldHTTPStatus, uint64(1<<64-1)),
		answer{code: codes.InvalidArgument, reason: service.ReasonInvalidHTTPStatus}},
	{"negative or zero", "Lookup(0)", lookupMethod, varintField(1, 0),
		answer{code: codes.InvalidArgument, reason: service.ReasonInvalidCode}},
	{"negative or zero", "Lookup(-2147483648)", lookupMethod, varintField(1, uint64(1<<64-1<<31)),
		answer{code: codes.InvalidArgument, reason: service.ReasonInvalidCode}},
	{"over the limit", "4 MiB body", translateMethod, bytesField(fieldBody, strings.Repeat(" ", 4<<20)),
		answer{code: codes.ResourceExhausted}},
	{"unknown method", "Explain", "/tmdbstatus.v1.StatusService/Explain", nil, answer{code: codes.Unimplemented}},
	{"unknown method", "unknown service", "/tmdbstatus.v2.StatusService/Lookup", nil, answer{code: codes.Unimplemented}},
}

const (
	translateMethod = "/tmdbstatus.v1.StatusService/Translate"
	lookupMethod    = "/tmdbstatus.v1.StatusService/Lookup"
)

func TestBadInputGRPC(t *testing.T) {
	conn := newGRPC(t)
	client := tmdbstatusv1.NewStatusServiceClient(conn)
	for _, tc := range grpcBadInputs {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			var resp proto.Message = new(tmdbstatusv1.TranslateResponse)
			if tc.method == lookupMethod {
				resp = new(tmdbstatusv1.LookupResponse)
			}
			req := tc.req
			err := conn.Invoke(t.Context(), tc.method, &req, resp, grpc.ForceCodec(rawCodec{}))
			what := fmt.Sprintf("%s(%q)", tc.method, shorten(tc.req))
			checkRPC(t, what, resp, err, tc.want)
			checkServesNext(t, client)
		})
	}
}

// checkRPC checks the answer of an RPC against want.
func checkRPC(t *testing.T, what string, resp proto.Message, err error, want answer) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != want.code {
		t.Fatalf("%s error = %v; want code %v", what, err, want.code)
	}
	if err != nil {
		t.Logf("%s error = %v", what, err)
		if got := reasonsOf(t, st.Proto()); !sameReasons(got, want.reason) {
			t.Errorf("%s error ErrorInfo reasons = %q; want [%s]", what, got, want.reason)
		}
		return
	}
	tr, ok := resp.(*tmdbstatusv1.TranslateResponse)
	if !ok {
		return
	}
	if c := codes.Code(tr.GetStatus().GetCode()); c != want.statusCode {
		t.Errorf("%s status code = %v; want %v", what, c, want.statusCode)
	}
	if got := reasonsOf(t, tr.GetStatus()); !sameReasons(got, want.statusReason) {
		t.Errorf("%s status ErrorInfo reasons = %q; want [%s]", what, got, want.statusReason)
	}
}

// reasonsOf returns the reasons of the ErrorInfo details of st.
func reasonsOf(t *testing.T, st *spb.Status) []string {
	t.Helper()
	var r []string
	for _, d := range st.GetDetails() {
		info := new(errdetails.ErrorInfo)
		if !d.MessageIs(info) {
			continue
		}
		if err := d.UnmarshalTo(info); err != nil {
			t.Fatalf("unmarshal ErrorInfo: %v", err)
		}
		r = append(r, info.GetReason())
	}
	return r
}

// sameReasons reports whether got is exactly [want], or empty if want is.
func sameReasons(got []string, want string) bool {
	if want == "" {
		return len(got) == 0
	}
	return len(got) == 1 && got[0] == want
}

// checkServesNext checks that a good RPC after a bad one is answered
// normally.
func checkServesNext(t *testing.T, client tmdbstatusv1.StatusServiceClient) {
	t.Helper()
	resp, err := client.Lookup(t.Context(), &tmdbstatusv1.LookupRequest{Code: 7})
	if err != nil || resp.GetEntry().GetReason() != "INVALID_API_KEY" {
		t.Errorf("Lookup(7) after a bad request = %v, %v; want reason INVALID_API_KEY", resp, err)
	}
}

// shorten cuts b for a test's message.
func shorten(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "..."...)
	}
	return b
}

// REST bad input: each request and the answer it gets.
var restBadInputs = []struct {
	kind, name          string
	method, path, ctype string
	body                string
	chunked             bool // send the body without a Content-Length
	want                answer
}{
	{"invalid UTF-8", "in status_message", http.MethodPost, translatePath, "application/json", "{\"status_code\":7,\"status_message\":\"\xff\"}", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"invalid UTF-8", "in body", http.MethodPost, translatePath, "application/json", "{\"body\":\"{\\\"status_code\\\":7}\xc3\"}", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"invalid UTF-8", "in a key", http.MethodPost, translatePath, "application/json", "{\"status_code\":7,\"\xff\":1}", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"invalid UTF-8", "in the path", http.MethodGet, "/v1/statuses/%FF", "", "", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest, md: map[string]string{"code": "\uFFFD"}}},
	{"malformed", "truncated JSON", http.MethodPost, translatePath, "application/json", `{"status_code":7,"status_mess`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"malformed", "two objects", http.MethodPost, translatePath, "application/json", `{"status_code":7}{"status_code":8}`, false,
		answer{http: 200, statusCode: codes.Unauthenticated, statusReason: "INVALID_API_KEY"}},
	{"malformed", "deeply nested unknown field", http.MethodPost, translatePath, "application/json",
		`{"status_code":7,"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"wrong type", "object for status_code", http.MethodPost, translatePath, "application/json", `{"status_code":{"v":7}}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"wrong type", "number for body", http.MethodPost, translatePath, "application/json", `{"body":7}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"wrong type", "fraction for status_code", http.MethodPost, translatePath, "application/json", `{"status_code":7.5}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"out of int32 range", "status_code 2^31", http.MethodPost, translatePath, "application/json", `{"status_code":2147483648}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"out of int32 range", "http_status -2^31-1", http.MethodPost, translatePath, "application/json", `{"http_status":-2147483649}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"out of int32 range", "http_status 2^31-1", http.MethodPost, translatePath, "application/json", `{"http_status":2147483647}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonInvalidHTTPStatus}},
	{"out of int32 range", "Lookup(2^31)", http.MethodGet, "/v1/statuses/2147483648", "", "", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"negative or zero", "status_code -1", http.MethodPost, translatePath, "application/json", `{"status_code":-1}`, false,
		answer{http: 200, statusCode: codes.Unknown, statusReason: service.ReasonUnknownStatusCode}},
	{"negative or zero", "status_code 0", http.MethodPost, translatePath, "application/json", `{"status_code":0}`, false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonMissingStatus}},
	{"negative or zero", "Lookup(0)", http.MethodGet, "/v1/statuses/0", "", "", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonInvalidCode}},
	{"negative or zero", "Lookup(-1)", http.MethodGet, "/v1/statuses/-1", "", "", false,
		answer{http: 400, code: codes.InvalidArgument, reason: service.ReasonInvalidCode}},
	{"over the limit", "Content-Length over 4 MiB", http.MethodPost, translatePath, "application/json",
		strings.Repeat(" ", gateway.DefaultMaxBodyBytes+1), false,
		answer{http: 413, code: codes.ResourceExhausted, reason: service.ReasonBodyTooLarge}},
	{"over the limit", "chunked over 4 MiB", http.MethodPost, translatePath, "application/json",
		strings.Repeat(" ", gateway.DefaultMaxBodyBytes+1), true,
		answer{http: 413, code: codes.ResourceExhausted, reason: service.ReasonBodyTooLarge}},
	{"over the limit", "chunked at 4 MiB", http.MethodPost, translatePath, "application/json",
		strings.Repeat(" ", gateway.DefaultMaxBodyBytes-len(tmdbInvalidKey)) + tmdbInvalidKey, true,
		answer{http: 200, statusCode: codes.Unauthenticated, statusReason: "INVALID_API_KEY"}},
	{"wrong Content-Type", "text/plain", http.MethodPost, translatePath, "text/plain", tmdbInvalidKey, false,
		answer{http: 415, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"wrong Content-Type", "application/grpc", http.MethodPost, translatePath, "application/grpc", tmdbInvalidKey, false,
		answer{http: 415, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest}},
	{"wrong Content-Type", "unparsable", http.MethodPost, translatePath, "application/json; charset", tmdbInvalidKey, false,
		answer{http: 200, statusCode: codes.Unauthenticated, statusReason: "INVALID_API_KEY"}},
	{"wrong Content-Type", "invalid UTF-8", http.MethodPost, translatePath, "text/\xff", tmdbInvalidKey, false,
		answer{http: 415, code: codes.InvalidArgument, reason: service.ReasonMalformedRequest, md: map[string]string{"contentType": "text/\uFFFD"}}},
	{"unknown path", "v2", http.MethodGet, "/v2/statuses/7", "", "", false,
		answer{http: 404, code: codes.NotFound, reason: service.ReasonRouteNotFound}},
	{"unknown path", "dot segments", http.MethodGet, "/v1/statuses/../statuses/7", "", "", false,
		answer{http: 404, code: codes.NotFound, reason: service.ReasonRouteNotFound}},
	{"unknown method", "PATCH", http.MethodPatch, translatePath, "application/json", `{}`, false,
		answer{http: 405, code: codes.Unimplemented, reason: service.ReasonMethodNotAllowed}},
	{"unknown method", "made up", "BREW", "/v1/statuses/7", "", "", false,
		answer{http: 405, code: codes.Unimplemented, reason: service.ReasonMethodNotAllowed}},
}

const translatePath = "/v1/statuses:translate"

func TestBadInputREST(t *testing.T) {
	ts := newServer(t)
	for _, tc := range restBadInputs {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			// One connection for the bad request and the good one after it,
			// unless the server closes it.
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			what := fmt.Sprintf("%s %s %q", tc.method, tc.path, shorten([]byte(tc.body)))
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequest(tc.method, ts.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp := roundTrip(t, conn, r, req)
			checkREST(t, what, resp, tc.want)

			if resp.Close {
				conn.Close()
				if conn, err = net.Dial("tcp", ts.Listener.Addr().String()); err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				r = bufio.NewReader(conn)
			}
			next, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/statuses/7", nil)
			checkRESTServesNext(t, roundTrip(t, conn, r, next))
		})
	}
}

// restAnswer is a REST response read whole.
type restAnswer struct {
	code  int
	body  []byte
	Close bool
}

// roundTrip writes req on conn and reads the response from r.
func roundTrip(t *testing.T, conn net.Conn, r *bufio.Reader, req *http.Request) restAnswer {
	t.Helper()
	go req.Write(conn) // A server may answer before it reads the body.
	resp, err := http.ReadResponse(r, req)
	if err != nil {
		t.Fatalf("%s %s: read response: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return restAnswer{resp.StatusCode, b, resp.Close}
}

// checkREST checks a REST answer against want.
func checkREST(t *testing.T, what string, resp restAnswer, want answer) {
	t.Helper()
	if resp.code != want.http {
		t.Fatalf("%s = %d %s; want HTTP %d", what, resp.code, shorten(resp.body), want.http)
	}
	if resp.code != http.StatusOK {
		st := new(spb.Status)
		unmarshal(t, what, resp.body, st)
		t.Logf("%s = %d %s", what, resp.code, resp.body)
		if codes.Code(st.GetCode()) != want.code {
			t.Errorf("%s: code = %v; want %v", what, codes.Code(st.GetCode()), want.code)
		}
		if got := reasonsOf(t, st); !sameReasons(got, want.reason) {
			t.Errorf("%s: ErrorInfo reasons = %q; want [%s]", what, got, want.reason)
		}
		if want.md != nil {
			if info := errorInfo(t, what, st); !maps.Equal(info.GetMetadata(), want.md) {
				t.Errorf("%s: ErrorInfo metadata = %q; want %q", what, info.GetMetadata(), want.md)
			}
		}
		return
	}
	tr := new(tmdbstatusv1.TranslateResponse)
	unmarshal(t, what, resp.body, tr)
	if c := codes.Code(tr.GetStatus().GetCode()); c != want.statusCode {
		t.Errorf("%s: status code = %v; want %v", what, c, want.statusCode)
	}
	if want.statusReason != "" {
		if got := reasonsOf(t, tr.GetStatus()); !sameReasons(got, want.statusReason) {
			t.Errorf("%s: status ErrorInfo reasons = %q; want [%s]", what, got, want.statusReason)
		}
	}
}

// checkRESTServesNext checks the answer to GET /v1/statuses/7 sent after a
// bad request.
func checkRESTServesNext(t *testing.T, resp restAnswer) {
	t.Helper()
	var lr tmdbstatusv1.LookupResponse
	if resp.code != http.StatusOK || protojson.Unmarshal(resp.body, &lr) != nil || lr.GetEntry().GetReason() != "INVALID_API_KEY" {
		t.Errorf("GET /v1/statuses/7 after a bad request = %d %s; want 200 with reason INVALID_API_KEY", resp.code, resp.body)
	}
}
