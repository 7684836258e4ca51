package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// TestBinary checks, against the binary as it ships, that REST fits the
// habits of the people who call it: a JSON body posted as a form (what
// `curl -d` sends), HEAD, Translate's query parameters, and ETags with
// If-None-Match, the same across restarts.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := testutil.BuildBinary(t)
	srv := testutil.StartServe(t, bin)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	send := func(t *testing.T, method, path string, header http.Header, body string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: read the body: %v", method, path, err)
		}
		return resp.StatusCode, resp.Header, b
	}

	t.Run("curl -d", func(t *testing.T) {
		form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		code, _, body := send(t, http.MethodPost, translatePath, form, `{"status_code":7}`)
		var resp tmdbstatusv1.TranslateResponse
		if code != http.StatusOK {
			t.Fatalf("curl -d '{\"status_code\":7}' = %d %s; want 200", code, body)
		}
		unmarshal(t, "curl -d", body, &resp)
		if got := codes.Code(resp.GetStatus().GetCode()); got != codes.Unauthenticated {
			t.Errorf("curl -d '{\"status_code\":7}': status code %v; want Unauthenticated", got)
		}
		code, header, body := send(t, http.MethodPost, translatePath, http.Header{"Content-Type": {"text/html"}}, `{"status_code":7}`)
		checkError(t, "POST text/html", code, header, body, unsupportedType("text/html"))
	})

	t.Run("curl -I", func(t *testing.T) {
		for _, path := range []string{"/v1/statuses/7", "/v1/statuses", "/"} {
			_, getHeader, getBody := send(t, http.MethodGet, path, nil, "")
			code, header, body := send(t, http.MethodHead, path, nil, "")
			if code != http.StatusOK || len(body) != 0 || header.Get("Content-Length") != fmt.Sprint(len(getBody)) || header.Get("ETag") != getHeader.Get("ETag") {
				t.Errorf("HEAD %s = %d, %d bytes, Content-Length %q, ETag %q; want 200, none, %d, %q",
					path, code, len(body), header.Get("Content-Length"), header.Get("ETag"), len(getBody), getHeader.Get("ETag"))
			}
		}
		code, header, body := send(t, http.MethodPost, "/v1/statuses/7", nil, "")
		checkError(t, "POST /v1/statuses/7", code, header, body, notAllowed("GET, HEAD, OPTIONS"))
	})

	t.Run("query parameters", func(t *testing.T) {
		tmdb := `{"success":false,"status_code":25,"status_message":"Your request count (#) is over the allowed limit of (40)."}`
		code, _, body := send(t, http.MethodPost, translatePath+"?http_status=429&retry_after=10", nil, tmdb)
		if code != http.StatusOK || retryDelay(t, body) != "10s" || !strings.Contains(string(body), `"httpStatus":"429"`) {
			t.Errorf("POST %s?http_status=429&retry_after=10 = %d %s; want a RetryInfo of 10s and httpStatus 429", translatePath, code, body)
		}
		code, header, body := send(t, http.MethodPost, translatePath+"?retryafter=10", nil, tmdb)
		checkError(t, "a misspelt parameter", code, header, body,
			malformed(`unknown query parameter "retryafter": POST /v1/statuses:translate takes only http_status and retry_after`, map[string]string{"parameter": "retryafter"}, ""))
	})

	t.Run("ETag", func(t *testing.T) {
		other := testutil.StartServe(t, bin) // Another process, as after a restart.
		for _, path := range []string{"/v1/statuses/7", "/v1/statuses", "/"} {
			code, header, _ := send(t, http.MethodGet, path, nil, "")
			etag := header.Get("ETag")
			if code != http.StatusOK || etag == "" || header.Get("Cache-Control") == "" {
				t.Errorf("GET %s = %d, ETag %q, Cache-Control %q; want 200 with both", path, code, etag, header.Get("Cache-Control"))
				continue
			}
			resp, err := client.Get(other.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Header.Get("ETag") != etag {
				t.Errorf("GET %s: ETag %q, and %q after a restart; want the same", path, etag, resp.Header.Get("ETag"))
			}
			code, _, body := send(t, http.MethodGet, path, http.Header{"If-None-Match": {`"other", ` + etag}}, "")
			if code != http.StatusNotModified || len(body) != 0 {
				t.Errorf("GET %s (If-None-Match its ETag) = %d with %d bytes; want 304, no body", path, code, len(body))
			}
		}
		code, header, _ := send(t, http.MethodGet, "/v1/statuses/99", nil, "")
		if code != http.StatusNotFound || header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET /v1/statuses/99 = %d, Cache-Control %q; want 404, no-store", code, header.Get("Cache-Control"))
		}
	})

	t.Run("no log lines from clients", func(t *testing.T) {
		before := srv.Log()
		for range 20 {
			send(t, http.MethodPost, translatePath, http.Header{"Content-Type": {"application/json; charset"}, "User-Agent": {"caf\u00e9"}}, `{"status_code":7}`)
		}
		if after := srv.Log(); after != before {
			t.Errorf("requests with a malformed Content-Type made the binary log:\n%s", strings.TrimPrefix(after, before))
		}
	})
}
