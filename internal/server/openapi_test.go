package server

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/protobuf/proto"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/gen/openapiv2"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// openAPIDoc is the part of a Swagger 2.0 document these tests read.
type openAPIDoc struct {
	Swagger string                                 `json:"swagger"`
	Paths   map[string]map[string]openAPIOperation `json:"paths"`
	Defs    map[string]struct {
		Description string   `json:"description"`
		Enum        []string `json:"enum"`
	} `json:"definitions"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openapiv2.Spec, &doc); err != nil {
		t.Fatalf("json.Unmarshal(openapiv2.Spec) = %v; want a Swagger document", err)
	}
	if doc.Swagger != "2.0" {
		t.Fatalf("openapiv2.Spec swagger = %q; want %q", doc.Swagger, "2.0")
	}
	return doc
}

// validRequests holds, for each operation of the spec, a request the
// service answers with success: the values of its path parameters and its
// body. A route added to the proto without a request here fails
// TestOpenAPIRoutesAnswer.
var validRequests = map[string]struct {
	pathParams map[string]string
	body       string
}{
	"StatusService_Lookup":       {pathParams: map[string]string{"code": "7"}},
	"StatusService_ListStatuses": {},
	"StatusService_Translate":    {body: `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`},
}

// TestOpenAPIRoutesAnswer sends a valid request to every route of the spec,
// through the REST gateway the binary serves, and checks that it answers
// with the success status the spec documents, with a JSON body.
func TestOpenAPIRoutesAnswer(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	srv := httptest.NewServer(gateway.New(service.New()))
	defer srv.Close()

	seen := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := strings.ToUpper(method) + " " + path
			seen[op.OperationID] = true
			t.Run(name, func(t *testing.T) {
				req, ok := validRequests[op.OperationID]
				if !ok {
					t.Fatalf("no valid request for operation %s: add one to validRequests", op.OperationID)
				}
				var success []int
				for code := range op.Responses {
					if c, err := strconv.Atoi(code); err == nil && c < 300 {
						success = append(success, c)
					}
				}
				if len(success) != 1 {
					t.Fatalf("%s documents success statuses %v; want exactly one", name, success)
				}

				url := path
				var body io.Reader
				for _, p := range op.Parameters {
					switch p.In {
					case "path":
						v, ok := req.pathParams[p.Name]
						if !ok {
							t.Fatalf("no value for path parameter %q of %s in validRequests", p.Name, op.OperationID)
						}
						url = strings.ReplaceAll(url, "{"+p.Name+"}", v)
					case "body":
						body = strings.NewReader(req.body)
					}
				}
				if strings.ContainsAny(url, "{}") {
					t.Fatalf("%s: path %q has a parameter the spec does not list", name, url)
				}
				r, err := http.NewRequest(strings.ToUpper(method), srv.URL+url, body)
				if err != nil {
					t.Fatal(err)
				}
				if body != nil {
					r.Header.Set("Content-Type", "application/json")
				}
				resp, err := srv.Client().Do(r)
				if err != nil {
					t.Fatalf("%s %s: %v", r.Method, url, err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("read the body of %s %s: %v", r.Method, url, err)
				}
				if resp.StatusCode != success[0] {
					t.Errorf("%s %s = %d %s; want %d", r.Method, url, resp.StatusCode, b, success[0])
				}
				if !json.Valid(b) {
					t.Errorf("%s %s body = %q; want JSON", r.Method, url, b)
				}
			})
		}
	}
	for id := range validRequests {
		if !seen[id] {
			t.Errorf("validRequests has %s, which the spec does not have", id)
		}
	}
}

// TestOpenAPIHasEveryHTTPRule checks that the spec has a path for every
// google.api.http rule of StatusService: that it is generated from the
// proto the binary was built with.
func TestOpenAPIHasEveryHTTPRule(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	methods := tmdbstatusv1.File_tmdbstatus_v1_service_proto.Services().ByName("StatusService").Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
		if rule == nil {
			continue
		}
		var method, path string
		switch p := rule.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			method, path = "get", p.Get
		case *annotations.HttpRule_Post:
			method, path = "post", p.Post
		case *annotations.HttpRule_Put:
			method, path = "put", p.Put
		case *annotations.HttpRule_Delete:
			method, path = "delete", p.Delete
		case *annotations.HttpRule_Patch:
			method, path = "patch", p.Patch
		default:
			t.Fatalf("%s: unexpected HTTP rule %v", m.FullName(), rule)
		}
		op, ok := doc.Paths[path][method]
		if !ok {
			t.Errorf("spec paths[%q][%q] missing; want the route of %s (paths: %v)", path, method, m.FullName(), slices.Sorted(maps.Keys(doc.Paths)))
			continue
		}
		if want := "StatusService_" + string(m.Name()); op.OperationID != want {
			t.Errorf("spec paths[%q][%q].operationId = %q; want %q", path, method, op.OperationID, want)
		}
	}
}

// TestOpenAPITmdbStatusTable checks that the TmdbStatus enum's description
// in the spec carries TMDB's table: every value, with its code, TMDB's HTTP
// status and message and the gRPC code it maps to.
func TestOpenAPITmdbStatusTable(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	def, ok := doc.Defs["v1TmdbStatus"]
	if !ok {
		t.Fatalf("spec definitions has no v1TmdbStatus; have %v", slices.Sorted(maps.Keys(doc.Defs)))
	}
	entries := service.Entries()
	if got, want := len(def.Enum), len(entries)+1; got != want { // + TMDB_STATUS_UNSPECIFIED
		t.Errorf("len(v1TmdbStatus.enum) = %d; want %d", got, want)
	}
	for _, e := range entries {
		// "- TMDB_STATUS_INVALID_API_KEY: 7, HTTP 401: Invalid API key: ...\n-> UNAUTHENTICATED"
		want := fmt.Sprintf("- %s: %d, HTTP %d: ", e.Status, e.TMDBCode(), e.HTTPStatus)
		i := strings.Index(def.Description, want)
		if i < 0 {
			t.Errorf("v1TmdbStatus.description lacks %q", want)
			continue
		}
		// The message may be wrapped over lines in the proto comment.
		rest := strings.Join(strings.Fields(def.Description[i+len(want):]), " ")
		wantRest := e.Message + " -> " + code.Code(e.Code).String()
		if !strings.HasPrefix(rest, wantRest) {
			t.Errorf("v1TmdbStatus.description for %s = %.120q...; want it to start %q", e.Status, rest, wantRest)
		}
	}
}
