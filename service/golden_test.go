package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/code"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// goldenDir (rewritten by -update, the flag of readme_test.go) holds the statuses tmdbstatus sends, which the Node and Python
// clients' tests decode: NAME.binpb (google.rpc.Status wire bytes),
// NAME.json (its protobuf JSON) and index.json (what each must decode to).
const goldenDir = "../clients/testdata/golden"

// fixture is one status and where it came from.
type fixture struct {
	name   string
	source string // what was translated or asked, for a reader of index.json
	st     *spb.Status
}

// goldenWant is what a client must decode from a fixture: the answers of
// the Go API (IsRetryable, RetryDelay) and the details as Go reads them.
type goldenWant struct {
	Name            string           `json:"name"`
	Source          string           `json:"source"`
	Code            string           `json:"code"`
	Reason          string           `json:"reason"`
	Domain          string           `json:"domain"`
	TMDBCode        *int32           `json:"tmdbCode"`
	HTTPStatus      *int32           `json:"httpStatus"`
	Retryable       bool             `json:"retryable"`
	RetryDelayNanos *string          `json:"retryDelayNanos"`
	FieldViolations []fieldViolation `json:"fieldViolations"`
	HelpLinks       []helpLink       `json:"helpLinks"`
}

type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
	Reason      string `json:"reason"`
}

type helpLink struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

// TestGolden writes (with -update) or checks the golden fixtures: every TMDB
// code's translation, the service's own errors of each reason, the REST
// gateway's, and the corpus's translations. It fails when the committed
// files are not what this run writes.
func TestGolden(t *testing.T) {
	fixtures := slices.Concat(tableFixtures(t), fallbackFixtures(t), serviceFixtures(t), restFixtures(t), corpusFixtures(t))
	checkVocabulary(t, fixtures)
	checkRetryable(t, fixtures)

	files := map[string][]byte{}
	var index []goldenWant
	for _, f := range fixtures {
		if _, dup := files[f.name+".binpb"]; dup {
			t.Fatalf("two fixtures named %s", f.name)
		}
		bin, err := proto.MarshalOptions{Deterministic: true}.Marshal(f.st)
		if err != nil {
			t.Fatal(err)
		}
		files[f.name+".binpb"] = bin
		files[f.name+".json"] = indentJSON(t, protojson.Format(f.st))
		index = append(index, want(f))
	}
	var idx bytes.Buffer
	enc := json.NewEncoder(&idx)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(index); err != nil {
		t.Fatal(err)
	}
	files["index.json"] = idx.Bytes()

	if updating() {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(goldenDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	const stale = "golden fixtures are stale: run go test ./service -run TestGolden -update"
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatalf("%v: %s", err, stale)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s/%s is no fixture any more: %s", goldenDir, e.Name(), stale)
		}
	}
	for name, b := range files {
		got, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s/%s differs from what tmdbstatus sends: %s", goldenDir, name, stale)
		}
	}
}

// updating reports whether -update was given. The flag is readme_test.go's,
// in the package's internal tests, which share this test binary.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// indentJSON returns protobuf JSON, whose spacing protojson varies on
// purpose, in one stable layout.
func indentJSON(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(b.Bytes(), '\n')
}

// oneLine returns the protobuf JSON of m on one line.
func oneLine(t *testing.T, m proto.Message) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(protojson.Format(m))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// want decodes f as the Go API reads it.
func want(f fixture) goldenWant {
	st := status.FromProto(f.st)
	w := goldenWant{
		Name: f.name, Source: f.source, Code: code.Code(st.Code()).String(),
		Retryable: service.IsRetryable(st.Err()), FieldViolations: []fieldViolation{}, HelpLinks: []helpLink{},
	}
	if d, ok := service.RetryDelay(st.Err()); ok {
		s := strconv.FormatInt(d.Nanoseconds(), 10)
		w.RetryDelayNanos = &s
	}
	d := service.Details(st)
	w.Reason, w.Domain = d.ErrorInfo.GetReason(), d.ErrorInfo.GetDomain()
	if d.ErrorInfo.GetDomain() == service.Domain {
		w.TMDBCode = metadataInt(d.ErrorInfo.GetMetadata(), service.MetadataTMDBStatusCode)
		w.HTTPStatus = metadataInt(d.ErrorInfo.GetMetadata(), service.MetadataHTTPStatus)
	}
	for _, v := range d.BadRequest.GetFieldViolations() {
		w.FieldViolations = append(w.FieldViolations, fieldViolation{v.GetField(), v.GetDescription(), v.GetReason()})
	}
	for _, l := range d.Help.GetLinks() {
		w.HelpLinks = append(w.HelpLinks, helpLink{l.GetDescription(), l.GetUrl()})
	}
	return w
}

func metadataInt(md map[string]string, key string) *int32 {
	n, err := strconv.ParseInt(md[key], 10, 32)
	if err != nil {
		return nil
	}
	v := int32(n)
	return &v
}

// translated returns the fixture of Translate(req).
func translated(t *testing.T, name string, req *tmdbstatusv1.TranslateRequest) fixture {
	t.Helper()
	tr, err := service.Translate(req)
	if err != nil {
		t.Fatalf("Translate(%v) error = %v", req, err)
	}
	return fixture{name, "Translate " + oneLine(t, req), tr.Status.Proto()}
}

// tableFixtures translates every TMDB code alone and, for the retryable
// ones, with TMDB's HTTP status and a Retry-After.
func tableFixtures(t *testing.T) []fixture {
	var fs []fixture
	for _, e := range service.Entries() {
		name := fmt.Sprintf("tmdb-%02d-%s", e.TMDBCode(), strings.ReplaceAll(strings.ToLower(e.Reason), "_", "-"))
		fs = append(fs, translated(t, name, &tmdbstatusv1.TranslateRequest{StatusCode: e.TMDBCode()}))
		if e.Retryable {
			fs = append(fs, translated(t, name+"-retry-after", &tmdbstatusv1.TranslateRequest{
				StatusCode: e.TMDBCode(), HttpStatus: int32(e.HTTPStatus), RetryAfter: "7"}))
		}
	}
	return append(fs,
		translated(t, "tmdb-25-body-retry-after", &tmdbstatusv1.TranslateRequest{
			HttpStatus: 429, RetryAfter: "10",
			Body: `{"success":false,"status_code":25,"status_message":"Your request count (41) is over the allowed limit of (40)."}`}),
		translated(t, "tmdb-05-http-400-errors", &tmdbstatusv1.TranslateRequest{
			StatusCode: 5, HttpStatus: 400, Errors: []string{"page must be less than or equal to 500"}}),
	)
}

// fallbackFixtures translates answers without a code of TMDB's table.
func fallbackFixtures(t *testing.T) []fixture {
	fs := []fixture{
		translated(t, "unknown-code-48-http-503", &tmdbstatusv1.TranslateRequest{StatusCode: 48, HttpStatus: 503}),
		translated(t, "unknown-code-1000", &tmdbstatusv1.TranslateRequest{StatusCode: 1000}),
		translated(t, "no-code-http-422-errors", &tmdbstatusv1.TranslateRequest{
			Body: `{"errors":["query must be provided"]}`, HttpStatus: 422}),
		translated(t, "no-code-http-503-retry-after", &tmdbstatusv1.TranslateRequest{HttpStatus: 503, RetryAfter: "30"}),
		translated(t, "no-code-http-200", &tmdbstatusv1.TranslateRequest{HttpStatus: 200}),
	}
	for _, h := range []int32{400, 401, 404, 429, 500, 502, 504} {
		fs = append(fs, translated(t, fmt.Sprintf("no-code-http-%d", h), &tmdbstatusv1.TranslateRequest{HttpStatus: h}))
	}
	return fs
}

// serviceFixtures are the errors of the service's own RPCs.
func serviceFixtures(t *testing.T) []fixture {
	srv := service.New()
	ctx := context.Background()
	rpcError := func(name string, err error, source string) fixture {
		if err == nil {
			t.Fatalf("%s: no error", source)
		}
		return fixture{name, source, status.Convert(err).Proto()}
	}
	var fs []fixture
	for _, req := range []struct {
		name string
		req  *tmdbstatusv1.TranslateRequest
	}{
		{"service-missing-status", &tmdbstatusv1.TranslateRequest{}},
		{"service-missing-status-body", &tmdbstatusv1.TranslateRequest{Body: "<html>Bad Gateway</html>"}},
		{"service-invalid-http-status", &tmdbstatusv1.TranslateRequest{HttpStatus: 700}},
	} {
		_, err := srv.Translate(ctx, req.req)
		fs = append(fs, rpcError(req.name, err, "Translate "+oneLine(t, req.req)))
	}
	for _, c := range []int32{0, 99} {
		_, err := srv.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: c})
		name := "service-unknown-code"
		if c <= 0 {
			name = "service-invalid-code"
		}
		fs = append(fs, rpcError(name, err, fmt.Sprintf("Lookup {\"code\":%d}", c)))
	}
	// What the servers of internal/server answer, over both transports, to a
	// request whose handler panicked, built as they build it.
	panicked := service.RequestStatus(codes.Internal, service.ReasonInternalError, "internal error", nil, "")
	return append(fs, fixture{"service-internal-error", "a request whose handler panicked", panicked.Proto()})
}

// restFixtures are the REST gateway's own errors, as its JSON.
func restFixtures(t *testing.T) []fixture {
	h := gateway.New(service.New(), gateway.WithMaxBodyBytes(64))
	var fs []fixture
	for _, r := range []struct{ name, method, path, ctype, body string }{
		{"rest-malformed-request", http.MethodPost, "/v1/statuses:translate", "application/json", `{"status_code":"x"}`},
		{"rest-malformed-request-content-type", http.MethodPost, "/v1/statuses:translate", "text/plain", `{}`},
		{"rest-malformed-request-code", http.MethodGet, "/v1/statuses/abc", "", ""},
		{"rest-route-not-found", http.MethodGet, "/v1/nothing", "", ""},
		{"rest-method-not-allowed", http.MethodDelete, "/v1/statuses", "", ""},
		{"rest-body-too-large", http.MethodPost, "/v1/statuses:translate", "application/json", `{"body":"` + strings.Repeat("x", 100) + `"}`},
	} {
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		st := &spb.Status{}
		if err := protojson.Unmarshal(rec.Body.Bytes(), st); err != nil {
			t.Fatalf("%s %s: %v in %s", r.method, r.path, err, rec.Body)
		}
		fs = append(fs, fixture{r.name, fmt.Sprintf("REST %s %s %s", r.method, r.path, r.body), st})
	}
	return fs
}

// corpusFixtures translates each response of the corpus (corpusDir, whose
// README.md gives the format) with FromResponse, as TestCorpus does.
func corpusFixtures(t *testing.T) []fixture {
	files := corpusFiles(t)
	fs := make([]fixture, 0, len(files))
	for _, file := range files {
		resp := readCase(t, file).Response
		name := "corpus-" + strings.TrimSuffix(filepath.Base(file), ".json")
		fs = append(fs, fixture{name, "FromResponse " + filepath.ToSlash(file), service.FromResponse(resp.httpResponse(t)).Proto()})
	}
	return fs
}

// checkRetryable fails unless every fixture is retryable, on the wire (a
// RetryInfo, which IsRetryable reads), exactly when TMDB's table says so: a
// code the table marks retryable or, without a code of the table, an HTTP
// status of 429, 502, 503 or 504. It is the rule clients used before
// retryability travelled on the wire, kept here as the oracle.
func checkRetryable(t *testing.T, fixtures []fixture) {
	t.Helper()
	for _, f := range fixtures {
		st := status.FromProto(f.st)
		want := false
		if info := service.Details(st).ErrorInfo; info.GetDomain() == service.Domain {
			code := metadataInt(info.GetMetadata(), service.MetadataTMDBStatusCode)
			http := metadataInt(info.GetMetadata(), service.MetadataHTTPStatus)
			if e, ok := service.Lookup(ptrOr(code, 0)); ok {
				want = e.Retryable
			} else {
				want = slices.Contains([]int32{429, 502, 503, 504}, ptrOr(http, 0))
			}
		}
		_, hasDelay := service.RetryDelay(st.Err())
		if got := service.IsRetryable(st.Err()); got != want || hasDelay != want {
			t.Errorf("%s: IsRetryable = %v, RetryDelay ok = %v; want %v for %s", f.name, got, hasDelay, want, f.source)
		}
	}
}

func ptrOr(p *int32, or int32) int32 {
	if p == nil {
		return or
	}
	return *p
}

// checkVocabulary fails unless every reason and metadata key of the
// fixtures is in the proto, with its domain, and every ErrorReason is sent
// by some fixture: the proto lists the whole vocabulary, and only it.
func checkVocabulary(t *testing.T, fixtures []fixture) {
	t.Helper()
	type reason struct{ domain, name string }
	known := map[reason]bool{}
	reasons := tmdbstatusv1.ErrorReason(0).Descriptor().Values()
	for i := range reasons.Len() {
		v := reasons.Get(i)
		if v.Number() != 0 {
			known[reason{proto.GetExtension(v.Options(), tmdbstatusv1.E_ErrorDomain).(string), string(v.Name())}] = true
		}
	}
	for _, e := range service.Entries() {
		known[reason{service.Domain, e.Reason}] = true
	}
	keys := map[string]bool{}
	values := tmdbstatusv1.MetadataKey(0).Descriptor().Values()
	for i := range values.Len() {
		if v := values.Get(i); v.Number() != 0 {
			keys[proto.GetExtension(v.Options(), tmdbstatusv1.E_MetadataKey).(string)] = true
		}
	}
	sent := map[string]bool{}
	for _, f := range fixtures {
		d := service.Details(status.FromProto(f.st))
		for _, u := range d.Unknown {
			t.Errorf("%s: a repeated, unexpected or broken detail: %v", f.name, u)
		}
		info := d.ErrorInfo
		if info == nil {
			continue
		}
		sent[info.GetReason()] = true
		if !known[reason{info.GetDomain(), info.GetReason()}] {
			t.Errorf("%s: reason %s in domain %s is not in the proto", f.name, info.GetReason(), info.GetDomain())
		}
		for k := range info.GetMetadata() {
			if !keys[k] {
				t.Errorf("%s: metadata key %q is not a tmdbstatus.v1.MetadataKey", f.name, k)
			}
		}
	}
	for i := range reasons.Len() {
		if v := reasons.Get(i); v.Number() != 0 && !sent[string(v.Name())] {
			t.Errorf("no fixture sends ErrorReason %s", v.Name())
		}
	}
}

// TestDomains pins the two ErrorInfo domains, which the proto's options
// give: changing one is a contract change (see CHANGELOG.md).
func TestDomains(t *testing.T) {
	if service.Domain != "api.themoviedb.org" {
		t.Errorf("Domain = %q; want api.themoviedb.org", service.Domain)
	}
	if service.ServiceDomain != "tmdbstatus.github.io" {
		t.Errorf("ServiceDomain = %q; want tmdbstatus.github.io", service.ServiceDomain)
	}
}
