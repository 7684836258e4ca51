package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// plainServer is a service.Server the gateway cannot recognize, so it
// answers every request through grpc-gateway, without cached JSON.
type plainServer struct{ *service.Server }

// TestFastPathEqualsGateway checks that the answers the gateway writes on
// its fast path, from its caches, are byte for byte those grpc-gateway
// writes, status and headers included, over a real connection; each request
// is sent twice, to see both a recorded answer and its replay.
func TestFastPathEqualsGateway(t *testing.T) {
	cached := httptest.NewServer(gateway.New(service.New()))
	defer cached.Close()
	plain := httptest.NewServer(gateway.New(plainServer{service.New()}))
	defer plain.Close()

	type request struct {
		method, path, body string
		header             map[string]string
		chunked            bool
	}
	const translate = "/v1/statuses:translate"
	json := map[string]string{"Content-Type": "application/json"}
	reqs := []request{
		{method: http.MethodGet, path: "/v1/statuses"},
		{method: http.MethodGet, path: "/v1/statuses/99"},
		{method: http.MethodGet, path: "/v1/statuses/0"},
		{method: http.MethodGet, path: "/v1/statuses/07"},
		{method: http.MethodGet, path: "/v1/statuses/%37"},
		{method: http.MethodGet, path: "/v1/statuses/7?code=8"},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"TE": "trailers"}},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"Grpc-Timeout": "bad"}},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"Grpc-Timeout": "1S"}},
		{method: http.MethodGet, path: "/v1/statuses/7", body: `{}`},
		{method: http.MethodHead, path: "/v1/statuses/7"},
		{method: http.MethodPost, path: "/v1/statuses/7"},
		{method: http.MethodGet, path: "/v1/statuses/"},
		{method: http.MethodGet, path: "/v1/statuses/123"},
		{method: http.MethodGet, path: "/v1/statuses/1234"},
		{method: http.MethodGet, path: "/v1/statuses/12345"},
		{method: http.MethodGet, path: "/v1/statuses/-1"},
		{method: http.MethodGet, path: "/v1/statuses/abc"},
		{method: http.MethodGet, path: "/v1/statuses/7", header: map[string]string{"Accept": "text/html"}},
		{method: http.MethodGet, path: "/v1/statuses/7", body: "x", chunked: true},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: json},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Content-Type": "text/plain"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, chunked: true},
		{method: http.MethodPost, path: translate, body: "  \n{\"statusCode\": 34}\r\n\t"},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34} {"status_code": 7}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34} garbage`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34`},
		{method: http.MethodPost, path: translate, body: `{"status_code": "34"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": "x"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34, "unknown": [1, 2]}`},
		{method: http.MethodPost, path: translate, body: `[]`},
		{method: http.MethodPost, path: translate, body: `null`},
		{method: http.MethodPost, path: translate, body: `{}`},
		{method: http.MethodPost, path: translate, body: ``},
		{method: http.MethodPost, path: translate, body: `{"http_status": 700}`},
		{method: http.MethodPost, path: translate, body: `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`},
		{method: http.MethodPost, path: translate, body: `{"httpStatus":404,"body":"{\"success\":false,\"status_code\":34}"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 22, "errors": ["page must be less than or equal to 500"]}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": "5"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": " 5"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": "99999999999"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 9, "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}`},
		{method: http.MethodPost, path: translate, body: `{"http_status": 503, "retry_after": "7"}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 99, "http_status": 503, "retry_after": "7", "success": true}`},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"Grpc-Timeout": "bad"}},
		{method: http.MethodPost, path: translate, body: `{"status_code": 34}`, header: map[string]string{"TE": "trailers"}},
		{method: http.MethodPost, path: translate + "?x=1", body: `{"status_code": 34}`},
		{method: http.MethodPut, path: translate, body: `{"status_code": 34}`},
		{method: http.MethodPost, path: "/v1/statuses:translate", body: `{"http_status": 503}`},
		{method: http.MethodPost, path: "/v1/statuses:translate", body: `{"status_code": 25, "http_status": 429, "retry_after": "10"}`},
	}
	for _, e := range service.Entries() {
		reqs = append(reqs,
			request{method: http.MethodGet, path: fmt.Sprintf("/v1/statuses/%d", e.TMDBCode())},
			request{method: http.MethodPost, path: "/v1/statuses:translate", body: fmt.Sprintf(`{"status_code": %d}`, e.TMDBCode())})
	}
	do := func(base string, rq request) string {
		t.Helper()
		var in io.Reader = strings.NewReader(rq.body)
		if rq.chunked {
			in = io.MultiReader(in) // No known length: sent chunked.
		}
		r, err := http.NewRequest(rq.method, base+rq.path, in)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range rq.header {
			r.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Header.Del("Date")
		return fmt.Sprintf("%d %v %v %s", resp.StatusCode, resp.Header, resp.TransferEncoding, body)
	}
	for _, rq := range reqs {
		want := do(plain.URL, rq)
		for range 2 {
			if got := do(cached.URL, rq); got != want {
				t.Errorf("%s %s %v %q:\ncached: %s\nplain:  %s", rq.method, rq.path, rq.header, rq.body, got, want)
				break
			}
		}
	}
}
