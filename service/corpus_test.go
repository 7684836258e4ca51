package service_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the want of every file in testdata/responses from the Go API's answer")

// corpusDir holds the corpus of TMDB's responses, one JSON file each.
const corpusDir = "testdata/responses"

// corpusFiles returns the paths of the corpus's files, of which there must
// be some.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	return files
}

// corpusCase is one file of testdata/responses; its README.md describes
// the format.
type corpusCase struct {
	Description string          `json:"description"`
	Response    corpusResponse  `json:"response"`
	Want        json.RawMessage `json:"want"`
}

// corpusResponse is the response TMDB (or what stands before it) sent.
type corpusResponse struct {
	HTTPStatus int                 `json:"httpStatus"`
	Headers    []map[string]string `json:"headers"`
	Body       string              `json:"body,omitempty"`
	BodyBase64 string              `json:"bodyBase64,omitempty"`
}

// body returns the response's body as bytes.
func (r corpusResponse) body(t *testing.T) []byte {
	t.Helper()
	if r.BodyBase64 == "" {
		return []byte(r.Body)
	}
	b, err := base64.StdEncoding.DecodeString(r.BodyBase64)
	if err != nil || r.Body != "" {
		t.Fatalf("bodyBase64: %v; want base64, and no body beside it", err)
	}
	return b
}

// request is the TranslateRequest a caller sends for the response.
func (r corpusResponse) request(t *testing.T) *tmdbstatusv1.TranslateRequest {
	req := &tmdbstatusv1.TranslateRequest{HttpStatus: int32(r.HTTPStatus), BodyBytes: r.body(t)}
	for _, h := range r.Headers {
		req.Headers = append(req.Headers, &tmdbstatusv1.Header{Name: h["name"], Value: h["value"]})
	}
	return req
}

// httpResponse is the response as net/http's client returns it.
func (r corpusResponse) httpResponse(t *testing.T) *http.Response {
	h := http.Header{}
	for _, kv := range r.Headers {
		h.Add(kv["name"], kv["value"])
	}
	return &http.Response{StatusCode: r.HTTPStatus, Header: h, Body: io.NopCloser(bytes.NewReader(r.body(t)))}
}

// TestCorpus translates every response of testdata/responses through the Go
// API (FromResponse, CheckResponse), gRPC and REST, and requires from each
// the status the file wants.
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	grpcClient := dial(t)
	rest := httptest.NewServer(gateway.New(service.New()))
	defer rest.Close()
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			c := readCase(t, file)
			resp := c.Response
			got := service.FromResponse(resp.httpResponse(t)).Proto()
			if *updateCorpus {
				writeCase(t, file, c, got)
				return
			}
			want := &spb.Status{}
			if err := protojson.Unmarshal(c.Want, want); err != nil {
				t.Fatalf("want: %v", err)
			}
			check := func(via string, got *spb.Status) {
				t.Helper()
				if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
					t.Errorf("%s: status differs from the corpus's (-want +got):\n%s", via, diff)
				}
			}
			check("FromResponse", got)
			check("CheckResponse", checkResponse(t, resp.httpResponse(t)))
			tr, err := grpcClient.Translate(ctx(t), resp.request(t))
			if err != nil {
				t.Fatalf("gRPC Translate: %v", err)
			}
			check("gRPC", tr.GetStatus())
			check("REST", translateREST(t, rest.URL, resp.request(t)).GetStatus())
		})
	}
}

// checkResponse returns the status of CheckResponse's error, or an OK one.
func checkResponse(t *testing.T, resp *http.Response) *spb.Status {
	t.Helper()
	err := service.CheckResponse(resp)
	if err == nil {
		return &spb.Status{}
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("CheckResponse = %v; want an error carrying a status", err)
	}
	return st.Proto()
}

// translateREST posts req to the REST gateway at base and returns its
// answer.
func translateREST(t *testing.T, base string, req *tmdbstatusv1.TranslateRequest) *tmdbstatusv1.TranslateResponse {
	t.Helper()
	body, err := protojson.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/v1/statuses:translate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/statuses:translate = %d %s, %v; want 200", resp.StatusCode, b, err)
	}
	tr := &tmdbstatusv1.TranslateResponse{}
	if err := protojson.Unmarshal(b, tr); err != nil {
		t.Fatalf("REST answer %s: %v", b, err)
	}
	return tr
}

func readCase(t *testing.T, file string) corpusCase {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c corpusCase
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// writeCase rewrites file with want as c's expected status.
func writeCase(t *testing.T, file string, c corpusCase, want *spb.Status) {
	t.Helper()
	w, err := protojson.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	c.Want = w
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
