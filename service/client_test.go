package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// tmdbAnswer is what the fake TMDB answers on one path.
type tmdbAnswer struct {
	status      int
	contentType string
	retryAfter  string
	body        string
}

const (
	jsonType = "application/json;charset=utf-8"
	htmlType = "text/html"

	movieBody     = `{"adult":false,"id":550,"title":"Fight Club","status":"Released","vote_count":30000}`
	notFoundBody  = `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`
	badKeyBody    = `{"status_code":7,"status_message":"Invalid API key: You must be granted a valid key.","success":false}`
	rateBody      = `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`
	errorsBody    = `{"errors":["page must be less than or equal to 500"]}`
	entryBody     = `{"success":false,"status_code":21,"status_message":"Entry not found: The item you are trying to edit cannot be found."}`
	updatedBody   = `{"success":true,"status_code":12,"status_message":"The item/record was updated successfully."}`
	proxyHTMLBody = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
	maintHTMLBody = "<!DOCTYPE html><html><body><h1>Down for maintenance</h1></body></html>"
)

// hugeBody is a TMDB error body followed by far more than MaxBodyBytes of
// padding inside a string TMDB would never send.
var hugeBody = `{"status_code":34,"status_message":"The resource you requested could not be found.","padding":"` +
	strings.Repeat("x", 4*service.MaxBodyBytes) + `"}`

// tmdbAnswers is how the fake TMDB answers, by path: both of TMDB's body
// shapes, HTML from a proxy, 429 with Retry-After, success codes.
var tmdbAnswers = map[string]tmdbAnswer{
	"/3/movie/550":             {200, jsonType, "", movieBody},
	"/3/movie/0":               {404, jsonType, "", notFoundBody},
	"/3/movie/popular":         {401, jsonType, "", badKeyBody},
	"/3/search/movie":          {429, jsonType, "10", rateBody},
	"/3/discover/movie":        {422, jsonType, "", errorsBody},
	"/3/list/1/remove_item":    {200, jsonType, "", entryBody},
	"/3/movie/550/rating":      {201, jsonType, "", updatedBody},
	"/3/configuration":         {502, htmlType, "", proxyHTMLBody},
	"/3/genre/movie/list":      {503, htmlType, "120", maintHTMLBody},
	"/3/trending/all/day":      {404, jsonType, "", hugeBody},
	"/3/movie/550/images.png":  {200, "image/png", "", "\x89PNG\r\n\x1a\n"},
	"/3/tv/1399/season/1/none": {404, jsonType, "", ""},
}

// fakeTMDB serves tmdbAnswers on loopback, and on /3/redirect a redirect to
// /3/movie/550.
func fakeTMDB(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/3/redirect" {
			http.Redirect(w, r, "/3/movie/550", http.StatusMovedPermanently)
			return
		}
		a, ok := tmdbAnswers[r.URL.Path]
		if !ok {
			a = tmdbAnswer{404, jsonType, "", notFoundBody}
		}
		w.Header().Set("Content-Type", a.contentType)
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// tmdbError is what a translated TMDB answer should say.
type tmdbError struct {
	code      codes.Code
	reason    string // the ErrorInfo reason; "" for OK
	retryable bool
	delay     time.Duration // from RetryInfo; 0 when there is none
	hasDelay  bool
	badReq    bool // a BadRequest detail
}

var tmdbErrors = map[string]tmdbError{
	"/3/movie/550":             {code: codes.OK},
	"/3/movie/0":               {code: codes.NotFound, reason: "RESOURCE_NOT_FOUND"},
	"/3/movie/popular":         {code: codes.Unauthenticated, reason: "INVALID_API_KEY"},
	"/3/search/movie":          {code: codes.ResourceExhausted, reason: "REQUEST_LIMIT_EXCEEDED", retryable: true, delay: 10 * time.Second, hasDelay: true},
	"/3/discover/movie":        {code: codes.InvalidArgument, reason: "NO_STATUS_CODE", badReq: true},
	"/3/list/1/remove_item":    {code: codes.NotFound, reason: "ENTRY_NOT_FOUND"},
	"/3/movie/550/rating":      {code: codes.OK},
	"/3/configuration":         {code: codes.Unavailable, reason: "NO_STATUS_CODE", retryable: true, delay: time.Second, hasDelay: true},
	"/3/genre/movie/list":      {code: codes.Unavailable, reason: "NO_STATUS_CODE", retryable: true, delay: 120 * time.Second, hasDelay: true},
	"/3/trending/all/day":      {code: codes.NotFound, reason: "RESOURCE_NOT_FOUND"},
	"/3/movie/550/images.png":  {code: codes.OK},
	"/3/tv/1399/season/1/none": {code: codes.NotFound, reason: "NO_STATUS_CODE"},
}

// get fetches path from srv with a plain client.
func get(t *testing.T, srv *httptest.Server, path string) *http.Response {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// checkTMDBStatus checks st against want, for the answer on path.
func checkTMDBStatus(t *testing.T, what string, st *status.Status, want tmdbError) {
	t.Helper()
	if st.Code() != want.code {
		t.Errorf("%s code = %v; want %v (status %v)", what, st.Code(), want.code, st.Proto())
	}
	d := service.Details(st)
	info, retry, badReq := d.ErrorInfo, d.RetryInfo, d.BadRequest
	for _, u := range d.Unknown {
		t.Errorf("%s has a repeated, unexpected or broken detail: %v", what, u)
	}
	if want.code == codes.OK {
		if len(st.Details()) != 0 || st.Err() != nil {
			t.Errorf("%s = %v; want OK with no details", what, st.Proto())
		}
		return
	}
	if info.GetReason() != want.reason || info.GetDomain() != service.Domain {
		t.Errorf("%s ErrorInfo = %v; want reason %s in domain %s", what, info, want.reason, service.Domain)
	}
	if got := retry != nil; got != want.hasDelay {
		t.Errorf("%s has RetryInfo = %v; want %v", what, got, want.hasDelay)
	} else if got := retry.GetRetryDelay().AsDuration(); want.hasDelay && got != want.delay {
		t.Errorf("%s RetryInfo delay = %v; want %v", what, got, want.delay)
	}
	if got := badReq != nil; got != want.badReq {
		t.Errorf("%s has BadRequest = %v; want %v", what, got, want.badReq)
	}
	err := st.Err()
	if got := service.IsRetryable(err); got != want.retryable {
		t.Errorf("IsRetryable(%s) = %v; want %v", what, got, want.retryable)
	}
	if got, ok := service.RetryDelay(err); got != want.delay || ok != want.hasDelay {
		t.Errorf("RetryDelay(%s) = %v, %v; want %v, %v", what, got, ok, want.delay, want.hasDelay)
	}
}

// checkBodyWhole checks that resp's body, after what read it, yields want
// again from its start.
func checkBodyWhole(t *testing.T, what string, resp *http.Response, want string) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != want {
		t.Errorf("body after %s = %d bytes %.40q, %v; want %d bytes %.40q", what, len(body), body, err, len(want), want)
	}
}

func TestFromResponse(t *testing.T) {
	srv := fakeTMDB(t)
	for path, want := range tmdbErrors {
		t.Run(path, func(t *testing.T) {
			resp := get(t, srv, path)
			st := service.FromResponse(resp)
			checkTMDBStatus(t, fmt.Sprintf("FromResponse(GET %s)", path), st, want)
			checkBodyWhole(t, "FromResponse(GET "+path+")", resp, tmdbAnswers[path].body)
		})
	}
}

func TestFromResponseMessages(t *testing.T) {
	srv := fakeTMDB(t)
	tests := []struct {
		path string
		want string
	}{
		{"/3/movie/0", "The resource you requested could not be found."},
		{"/3/search/movie", "Your request count (41) is over the allowed limit of (40)."},
		{"/3/discover/movie", "TMDB answered HTTP 422 Unprocessable Entity"},
		{"/3/configuration", "TMDB answered HTTP 502 Bad Gateway"},
	}
	for _, tt := range tests {
		st := service.FromResponse(get(t, srv, tt.path))
		if st.Message() != tt.want {
			t.Errorf("FromResponse(GET %s).Message() = %q; want %q", tt.path, st.Message(), tt.want)
		}
	}
}

// TestFromResponseReadError cuts a body short on the wire: FromResponse
// translates what arrived, and the body gives the same bytes and error again.
func TestFromResponseReadError(t *testing.T) {
	const sent = `{"success":false,"status_code":25,"status_message":"Your request count (41) is over`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, sent)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	st := service.FromResponse(resp)
	checkTMDBStatus(t, "FromResponse(cut body)", st, tmdbError{
		code: codes.ResourceExhausted, reason: "REQUEST_LIMIT_EXCEEDED", retryable: true, delay: 3 * time.Second, hasDelay: true,
	})
	body, err := io.ReadAll(resp.Body)
	if string(body) != sent || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("body after FromResponse = %q, %v; want %q, %v", body, err, sent, io.ErrUnexpectedEOF)
	}
}

func TestFromResponseOdd(t *testing.T) {
	tests := []struct {
		name string
		resp *http.Response
		want codes.Code
	}{
		{"nil response", nil, codes.Unknown},
		{"no body", &http.Response{StatusCode: 503, Header: http.Header{}}, codes.Unavailable},
		{"not an HTTP status", &http.Response{StatusCode: 999, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("<html>"))}, codes.Unknown},
		{"not an HTTP status, TMDB body", &http.Response{StatusCode: 999, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(notFoundBody))}, codes.NotFound},
	}
	for _, tt := range tests {
		st := service.FromResponse(tt.resp)
		if st.Code() != tt.want {
			t.Errorf("FromResponse(%s) = %v; want code %v", tt.name, st.Proto(), tt.want)
		}
		if tt.want != codes.OK && len(st.Details()) == 0 {
			t.Errorf("FromResponse(%s) = %v; want an ErrorInfo", tt.name, st.Proto())
		}
	}
}

func TestCheckResponse(t *testing.T) {
	srv := fakeTMDB(t)
	for path, want := range tmdbErrors {
		t.Run(path, func(t *testing.T) {
			resp := get(t, srv, path)
			err := service.CheckResponse(resp)
			a := tmdbAnswers[path]
			// Whatever the answer.
			defer checkBodyWhole(t, "CheckResponse(GET "+path+")", resp, a.body)
			if want.code == codes.OK {
				if err != nil {
					t.Errorf("CheckResponse(GET %s) = %v; want nil", path, err)
				}
				return
			}
			var re *service.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("CheckResponse(GET %s) = %v (%T); want a *ResponseError", path, err, err)
			}
			if re.StatusCode != a.status || re.Header.Get("Content-Type") != a.contentType {
				t.Errorf("GET %s ResponseError = HTTP %d, %q; want %d, %q", path, re.StatusCode, re.Header.Get("Content-Type"), a.status, a.contentType)
			}
			if wantBody := a.body[:min(len(a.body), service.MaxBodyBytes)]; !bytes.Equal(re.Body, []byte(wantBody)) {
				t.Errorf("GET %s ResponseError.Body = %d bytes; want the first %d", path, len(re.Body), len(wantBody))
			}
			// status.FromError reads the status as FromResponse gives it.
			st, ok := status.FromError(err)
			if !ok {
				t.Fatalf("status.FromError(%v) = _, false; want the status", err)
			}
			checkTMDBStatus(t, fmt.Sprintf("CheckResponse(GET %s)", path), st, want)
			if fr := service.FromResponse(get(t, srv, path)); !proto.Equal(st.Proto(), fr.Proto()) {
				t.Errorf("CheckResponse(GET %s) status = %v; want FromResponse's %v", path, st.Proto(), fr.Proto())
			}
		})
	}
	if err := service.CheckResponse(nil); status.Code(err) != codes.Unknown {
		t.Errorf("CheckResponse(nil) = %v; want an UNKNOWN error", err)
	}
}

// TestRedactURL gets an error from an http.Client whose URL holds TMDB's
// credentials: RedactURL's has none, and still unwraps to the cause.
func TestRedactURL(t *testing.T) {
	addr := testutil.FreeAddr(t) // Nothing answers on its port.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	const key, session = "0123456789abcdef", "5e55i0n"
	_, err := client.Get("http://" + addr + "/3/account?api_key=" + key + "&session_id=" + session + "&language=en")
	if err == nil || !strings.Contains(err.Error(), key) {
		t.Fatalf("GET from a closed port = %v; want an error holding the URL", err)
	}
	var opErr *net.OpError
	for _, e := range []error{err, fmt.Errorf("fetching the account: %w", err)} {
		got := service.RedactURL(e)
		if msg := got.Error(); strings.Contains(msg, key) || strings.Contains(msg, session) || !strings.Contains(msg, "language=en") {
			t.Errorf("RedactURL(%v) = %q; want the URL without its credentials", e, msg)
		}
		var ue *url.Error
		if !errors.As(got, &ue) || !errors.As(got, &opErr) || strings.Contains(ue.URL, key) {
			t.Errorf("RedactURL(%v) = %#v; want a redacted *url.Error around the *net.OpError", e, got)
		}
	}
	if plain := errors.New("boom"); service.RedactURL(plain) != plain {
		t.Errorf("RedactURL(a plain error) changed it")
	}
	if service.RedactURL(nil) != nil {
		t.Errorf("RedactURL(nil) != nil")
	}
}

func TestIsRetryableAndRetryDelay(t *testing.T) {
	withDetails := func(c codes.Code, details ...protoadapt.MessageV1) error {
		st, err := status.New(c, "x").WithDetails(details...)
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	retryInfo := func(d *durationpb.Duration) error {
		st, err := status.New(codes.Unavailable, "x").WithDetails(&errdetails.RetryInfo{RetryDelay: d})
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	translated := func(req *tmdbstatusv1.TranslateRequest) error {
		tr, err := service.Translate(req)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Err()
	}
	tests := []struct {
		name      string
		err       error
		retryable bool
		delay     time.Duration
		hasDelay  bool
	}{
		{"nil", nil, false, 0, false},
		{"a plain error", errors.New("boom"), false, 0, false},
		{"a bare UNAVAILABLE", status.Error(codes.Unavailable, "x"), false, 0, false},
		{"Error(25)", service.Error(25), true, time.Second, true},
		{"Error(43)", service.Error(43), true, time.Second, true},
		{"Error(34)", service.Error(34), false, 0, false},
		{"Error(1)", service.Error(1), false, 0, false},
		{"code 25 with Retry-After", translated(&tmdbstatusv1.TranslateRequest{StatusCode: 25, RetryAfter: "7"}), true, 7 * time.Second, true},
		{"wrapped", fmt.Errorf("calling TMDB: %w", translated(&tmdbstatusv1.TranslateRequest{StatusCode: 25, RetryAfter: "7"})), true, 7 * time.Second, true},
		{"HTTP 503 alone", translated(&tmdbstatusv1.TranslateRequest{HttpStatus: 503}), true, time.Second, true},
		{"HTTP 500 alone", translated(&tmdbstatusv1.TranslateRequest{HttpStatus: 500}), false, 0, false},
		{"unknown code, HTTP 429", translated(&tmdbstatusv1.TranslateRequest{StatusCode: 99, HttpStatus: 429}), true, time.Second, true},
		{"code 34 with HTTP 503", translated(&tmdbstatusv1.TranslateRequest{StatusCode: 34, HttpStatus: 503}), false, 0, false},
		{"another domain", withDetails(codes.ResourceExhausted, &errdetails.ErrorInfo{Domain: "example.com", Reason: "X", Metadata: map[string]string{"tmdbStatusCode": "25"}}), false, 0, false},
		{"a retryable TMDB code without RetryInfo", withDetails(codes.ResourceExhausted,
			&errdetails.ErrorInfo{Domain: service.Domain, Reason: "REQUEST_LIMIT_EXCEEDED", Metadata: map[string]string{"tmdbStatusCode": "25", "httpStatus": "429"}}), false, 0, false},
		{"HTTP 503 without RetryInfo", withDetails(codes.Unavailable,
			&errdetails.ErrorInfo{Domain: service.Domain, Reason: service.ReasonNoStatusCode, Metadata: map[string]string{"httpStatus": "503"}}), false, 0, false},
		{"a service error", withDetails(codes.InvalidArgument, &errdetails.ErrorInfo{Domain: service.ServiceDomain, Reason: service.ReasonMissingStatus}), false, 0, false},
		{"RetryInfo after a TMDB ErrorInfo that is not retryable", withDetails(codes.NotFound,
			&errdetails.ErrorInfo{Domain: service.Domain, Reason: "RESOURCE_NOT_FOUND", Metadata: map[string]string{"tmdbStatusCode": "34"}},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)}), true, time.Second, true},
		{"RetryInfo alone", retryInfo(durationpb.New(2 * time.Second)), true, 2 * time.Second, true},
		{"RetryInfo of zero", retryInfo(durationpb.New(0)), true, 0, true},
		{"RetryInfo negative", retryInfo(durationpb.New(-time.Second)), true, 0, false},
		{"RetryInfo without delay", retryInfo(nil), true, 0, false},
	}
	for _, tt := range tests {
		if got := service.IsRetryable(tt.err); got != tt.retryable {
			t.Errorf("IsRetryable(%s: %v) = %v; want %v", tt.name, tt.err, got, tt.retryable)
		}
		if got, ok := service.RetryDelay(tt.err); got != tt.delay || ok != tt.hasDelay {
			t.Errorf("RetryDelay(%s: %v) = %v, %v; want %v, %v", tt.name, tt.err, got, ok, tt.delay, tt.hasDelay)
		}
	}
}

func TestStatusOf(t *testing.T) {
	st := status.New(codes.NotFound, "The resource you requested could not be found.")
	wrapped := &url.Error{Op: "Get", URL: "https://api.themoviedb.org/3/movie/0?api_key=secret", Err: st.Err()}
	tests := []struct {
		name string
		err  error
		want *status.Status // nil: none
	}{
		{"nil", nil, nil},
		{"a plain error", errors.New("boom"), nil},
		{"a status error", st.Err(), st},
		{"a *url.Error around it", wrapped, st},
		{"fmt.Errorf around that", fmt.Errorf("fetching: %w", wrapped), st},
	}
	for _, tt := range tests {
		got, ok := service.StatusOf(tt.err)
		if ok != (tt.want != nil) || (tt.want != nil && (got.Code() != tt.want.Code() || got.Message() != tt.want.Message())) {
			t.Errorf("StatusOf(%s) = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}
}

// movieServer is a gRPC handler that fetches from TMDB and checks the
// response with CheckResponse:
// StatusService.Lookup stands in for any RPC.
type movieServer struct {
	tmdbstatusv1.UnimplementedStatusServiceServer
	client *http.Client
	url    string
}

func (s *movieServer) Lookup(ctx context.Context, _ *tmdbstatusv1.LookupRequest) (*tmdbstatusv1.LookupResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, status.Error(codes.Unavailable, "TMDB cannot be reached")
	}
	defer resp.Body.Close()
	if err := service.CheckResponse(resp); err != nil {
		return nil, err
	}
	return &tmdbstatusv1.LookupResponse{}, nil
}

// TestCheckResponseThroughGRPC returns a TMDB failure from a gRPC handler
// and reads its details on the client's side of a real gRPC connection.
func TestCheckResponseThroughGRPC(t *testing.T) {
	tmdbSrv := fakeTMDB(t)
	srv := grpc.NewServer()
	tmdbstatusv1.RegisterStatusServiceServer(srv, &movieServer{
		client: tmdbSrv.Client(),
		url:    tmdbSrv.URL + "/3/search/movie?api_key=secret",
	})
	conn := testutil.Bufconn(t, srv)

	_, err := tmdbstatusv1.NewStatusServiceClient(conn).Lookup(t.Context(), &tmdbstatusv1.LookupRequest{Code: 1})
	st := status.Convert(err)
	checkTMDBStatus(t, "the RPC's status", st, tmdbError{
		code: codes.ResourceExhausted, reason: "REQUEST_LIMIT_EXCEEDED", retryable: true, delay: 10 * time.Second, hasDelay: true,
	})
	if want := "Your request count (41) is over the allowed limit of (40)."; st.Message() != want {
		t.Errorf("the RPC's message = %q; want %q", st.Message(), want)
	}
}

// BenchmarkFromResponse translates responses held in memory: TMDB's 404,
// which adds nothing to the table, and its 429 with a Retry-After, whose
// status is built for the call.
func BenchmarkFromResponse(b *testing.B) {
	for _, bc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   codes.Code
	}{
		{"404", 404, http.Header{"Content-Type": {jsonType}}, notFoundBody, codes.NotFound},
		{"429 Retry-After", 429, http.Header{"Content-Type": {jsonType}, "Retry-After": {"10"}}, rateBody, codes.ResourceExhausted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				resp := &http.Response{StatusCode: bc.status, Header: bc.header, Body: io.NopCloser(strings.NewReader(bc.body))}
				if st := service.FromResponse(resp); st.Code() != bc.want {
					b.Fatalf("FromResponse = %v; want %v", st.Code(), bc.want)
				}
			}
		})
	}
}

// countingBody counts the bytes read from a response body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// countingTransport counts what is read of its responses' bodies.
type countingTransport struct{ n atomic.Int64 }

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		resp.Body = countingBody{resp.Body, &t.n}
	}
	return resp, err
}

func TestCheckResponseReadsLittleOfLargeSuccess(t *testing.T) {
	// TMDB's data, e.g. a movie with append_to_response, is large:
	// CheckResponse must not read it, only enough to see it is no status.
	movie := `{"id":550,"title":"Fight Club","overview":"` + strings.Repeat("x", 200<<10) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		io.WriteString(w, movie)
	}))
	defer srv.Close()
	base := &countingTransport{}
	client := &http.Client{Transport: base}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("Get = %v; want the movie", err)
	}
	defer resp.Body.Close()
	if err := service.CheckResponse(resp); err != nil {
		t.Fatalf("CheckResponse(the movie) = %v; want nil", err)
	}
	// A TMDB status body is under 1 KiB: CheckResponse reads no more.
	if n := base.n.Load(); n > 1<<10+1 {
		t.Errorf("CheckResponse read %d bytes of a %d-byte 2xx body; want at most %d", n, len(movie), 1<<10+1)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != movie {
		t.Errorf("body read after CheckResponse = %d bytes, %v; want the whole %d bytes", len(got), err, len(movie))
	}
}
