//go:build soak

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// testCase is one request of the mix, with what its answer must be. The
// expectations are written out, not computed by the service's code.
type testCase struct {
	name string
	// rpc sends the request over gRPC; nil for a REST-only case.
	rpc func(context.Context, tmdbstatusv1.StatusServiceClient) (proto.Message, error)
	// The same request over REST.
	method, path, ctype, body string

	httpStatus int        // REST status
	rpcCode    codes.Code // the RPC's code: OK, or that of its error
	reason     string     // the ErrorInfo reason of the RPC's error, or of the translated status
	statusCode codes.Code // Translate: the code of the translated status
	entryCode  int32      // Lookup, Translate: the code of the entry; 0 for none
	entries    int        // ListStatuses: how many entries
}

// translateCase is a Translate case; the REST body is req in JSON.
func translateCase(name string, req *tmdbstatusv1.TranslateRequest, c codes.Code, reason string, entryCode int32) testCase {
	body, err := protojson.Marshal(req)
	if err != nil {
		panic(err)
	}
	return testCase{
		name: name,
		rpc: func(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
			return cl.Translate(ctx, req)
		},
		method: http.MethodPost, path: "/v1/statuses:translate", ctype: "application/json", body: string(body),
		httpStatus: http.StatusOK, statusCode: c, reason: reason, entryCode: entryCode,
	}
}

// lookupCase is a Lookup case that succeeds.
func lookupCase(code int32, reason string) testCase {
	return testCase{
		name: fmt.Sprintf("Lookup(%d)", code),
		rpc: func(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
			return cl.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: code})
		},
		method: http.MethodGet, path: fmt.Sprintf("/v1/statuses/%d", code),
		httpStatus: http.StatusOK, reason: reason, entryCode: code,
	}
}

// restError is a REST-only case the gateway refuses.
func restError(name, method, path, ctype, body string, httpStatus int, c codes.Code, reason string) testCase {
	return testCase{name: name, method: method, path: path, ctype: ctype, body: body, httpStatus: httpStatus, rpcCode: c, reason: reason}
}

// mixedCases returns the mix of requests the load tests send: every TMDB
// code translated from a body TMDB sends and looked up, odd bodies, the
// service's own errors and, over REST, the gateway's.
func mixedCases() []testCase {
	var cases []testCase
	for _, e := range service.Entries() {
		code := e.TMDBCode()
		reason := e.Reason
		if e.Code == codes.OK {
			reason = "" // no details on OK
		}
		body := fmt.Sprintf(`{"success":%t,"status_code":%d,"status_message":%q}`, e.Code == codes.OK, code, e.Message)
		cases = append(cases,
			translateCase(fmt.Sprintf("Translate(body of %d)", code),
				&tmdbstatusv1.TranslateRequest{HttpStatus: int32(e.HTTPStatus), Body: body}, e.Code, reason, code),
			lookupCase(code, e.Reason))
	}
	cases = append(cases,
		translateCase("rate limited with Retry-After", &tmdbstatusv1.TranslateRequest{
			HttpStatus: 429, RetryAfter: "10",
			Body: `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`,
		}, codes.ResourceExhausted, "REQUEST_LIMIT_EXCEEDED", 25),
		translateCase("proxy HTML page", &tmdbstatusv1.TranslateRequest{
			HttpStatus: 502, Body: "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
		}, codes.Unavailable, service.ReasonNoStatusCode, 0),
		translateCase("errors shape", &tmdbstatusv1.TranslateRequest{
			HttpStatus: 422, Body: `{"errors":["page must be less than or equal to 500"]}`,
		}, codes.InvalidArgument, service.ReasonNoStatusCode, 0),
		translateCase("truncated body", &tmdbstatusv1.TranslateRequest{
			HttpStatus: 401, Body: `{"success":false,"status_code":7,"status_mess`,
		}, codes.Unauthenticated, "INVALID_API_KEY", 7),
		translateCase("unknown code", &tmdbstatusv1.TranslateRequest{StatusCode: 99, HttpStatus: 503},
			codes.Unavailable, service.ReasonUnknownStatusCode, 0),
		// The service reads a body's first 64 KiB: a status_code after them
		// is not seen.
		translateCase("large body", &tmdbstatusv1.TranslateRequest{
			HttpStatus: 500, Body: `{"x":"` + strings.Repeat("y", 256<<10) + `","status_code":11}`,
		}, codes.Internal, "NO_STATUS_CODE", 0),
		testCase{
			name: "ListStatuses",
			rpc: func(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
				return cl.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{})
			},
			method: http.MethodGet, path: "/v1/statuses", httpStatus: http.StatusOK, entries: len(service.Entries()),
		},
		// The service's own errors.
		testCase{
			name: "Translate(nothing)",
			rpc: func(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
				return cl.Translate(ctx, &tmdbstatusv1.TranslateRequest{})
			},
			method: http.MethodPost, path: "/v1/statuses:translate", ctype: "application/json", body: `{}`,
			httpStatus: http.StatusBadRequest, rpcCode: codes.InvalidArgument, reason: service.ReasonMissingStatus,
		},
		testCase{
			name: "Lookup(99)",
			rpc: func(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
				return cl.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: 99})
			},
			method: http.MethodGet, path: "/v1/statuses/99",
			httpStatus: http.StatusNotFound, rpcCode: codes.NotFound, reason: service.ReasonUnknownCode,
		},
		testCase{
			name: "Lookup(-1)",
			rpc: func(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
				return cl.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: -1})
			},
			method: http.MethodGet, path: "/v1/statuses/-1",
			httpStatus: http.StatusBadRequest, rpcCode: codes.InvalidArgument, reason: service.ReasonInvalidCode,
		},
		// The gateway's own errors.
		restError("unknown path", http.MethodGet, "/v2/nothing", "", "", http.StatusNotFound, codes.NotFound, service.ReasonRouteNotFound),
		restError("wrong method", http.MethodDelete, "/v1/statuses", "", "", http.StatusMethodNotAllowed, codes.Unimplemented, service.ReasonMethodNotAllowed),
		restError("wrong Content-Type", http.MethodPost, "/v1/statuses:translate", "text/plain", `{"status_code":7}`, http.StatusUnsupportedMediaType, codes.InvalidArgument, service.ReasonMalformedRequest),
		restError("wrongly typed JSON", http.MethodPost, "/v1/statuses:translate", "application/json", `{"status_code":"seven"}`, http.StatusBadRequest, codes.InvalidArgument, service.ReasonMalformedRequest),
		restError("code out of int32", http.MethodGet, "/v1/statuses/2147483648", "", "", http.StatusBadRequest, codes.InvalidArgument, service.ReasonMalformedRequest),
	)
	return cases
}

// doRPC sends tc over gRPC and checks the answer.
func (tc testCase) doRPC(ctx context.Context, cl tmdbstatusv1.StatusServiceClient) error {
	resp, err := tc.rpc(ctx, cl)
	if err != nil {
		st, ok := status.FromError(err)
		if !ok || st.Code() != tc.rpcCode || tc.rpcCode == codes.OK {
			return &callError{err: err}
		}
		return tc.checkError(st.Proto())
	}
	if tc.rpcCode != codes.OK {
		return fmt.Errorf("%s: RPC succeeded; want %v", tc.name, tc.rpcCode)
	}
	return tc.checkResponse(resp)
}

// callError is an RPC or HTTP call that failed: no answer was received.
type callError struct{ err error }

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// doREST sends tc over REST and checks the answer.
func (tc testCase) doREST(ctx context.Context, client *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, tc.method, base+tc.path, bytes.NewReader([]byte(tc.body)))
	if err != nil {
		return err
	}
	if tc.ctype != "" {
		req.Header.Set("Content-Type", tc.ctype)
	}
	resp, err := client.Do(req)
	if err != nil {
		return &callError{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		// The answer started but did not arrive whole: never acceptable.
		return fmt.Errorf("%s: read body after HTTP %d: %w", tc.name, resp.StatusCode, err)
	}
	return tc.checkREST(resp.StatusCode, b)
}

// checkREST checks the HTTP status and body of a REST answer.
func (tc testCase) checkREST(httpStatus int, b []byte) error {
	if httpStatus != tc.httpStatus {
		return fmt.Errorf("%s: HTTP %d %s; want %d", tc.name, httpStatus, b, tc.httpStatus)
	}
	if tc.httpStatus != http.StatusOK {
		st := new(spb.Status)
		if err := protojson.Unmarshal(b, st); err != nil {
			return fmt.Errorf("%s: error body %s: %w", tc.name, b, err)
		}
		if codes.Code(st.GetCode()) != tc.rpcCode {
			return fmt.Errorf("%s: error code %v; want %v", tc.name, codes.Code(st.GetCode()), tc.rpcCode)
		}
		return tc.checkError(st)
	}
	var m proto.Message
	switch {
	case tc.entries > 0:
		m = new(tmdbstatusv1.ListStatusesResponse)
	case tc.method == http.MethodPost:
		m = new(tmdbstatusv1.TranslateResponse)
	default:
		m = new(tmdbstatusv1.LookupResponse)
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s: body %s: %w", tc.name, b, err)
	}
	return tc.checkResponse(m)
}

// checkError checks the status of an error answer: exactly one ErrorInfo,
// with tc's reason.
func (tc testCase) checkError(st *spb.Status) error {
	if r := reasons(st); len(r) != 1 || r[0] != tc.reason {
		return fmt.Errorf("%s: error ErrorInfo reasons %q; want [%s]", tc.name, r, tc.reason)
	}
	return nil
}

// checkResponse checks a successful answer.
func (tc testCase) checkResponse(m proto.Message) error {
	switch m := m.(type) {
	case *tmdbstatusv1.ListStatusesResponse:
		if n := len(m.GetEntries()); n != tc.entries {
			return fmt.Errorf("%s: %d entries; want %d", tc.name, n, tc.entries)
		}
	case *tmdbstatusv1.LookupResponse:
		if e := m.GetEntry(); e.GetCode() != tc.entryCode || e.GetReason() != tc.reason {
			return fmt.Errorf("%s: entry %v; want code %d, reason %s", tc.name, e, tc.entryCode, tc.reason)
		}
	case *tmdbstatusv1.TranslateResponse:
		st := m.GetStatus()
		if codes.Code(st.GetCode()) != tc.statusCode || m.GetEntry().GetCode() != tc.entryCode {
			return fmt.Errorf("%s: status %v, entry %v; want code %v, entry %d", tc.name, st, m.GetEntry(), tc.statusCode, tc.entryCode)
		}
		want := []string{tc.reason}
		if tc.reason == "" {
			want = nil
		}
		if r := reasons(st); !slices.Equal(r, want) {
			return fmt.Errorf("%s: ErrorInfo reasons %q; want %q", tc.name, r, want)
		}
	default:
		return fmt.Errorf("%s: unexpected response %T", tc.name, m)
	}
	return nil
}

// reasons returns the reasons of the ErrorInfo details of st.
func reasons(st *spb.Status) []string {
	var r []string
	for _, d := range st.GetDetails() {
		info := new(errdetails.ErrorInfo)
		if d.MessageIs(info) && d.UnmarshalTo(info) == nil {
			r = append(r, info.GetReason())
		}
	}
	return r
}
