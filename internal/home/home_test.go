package home_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/internal/home"
	"github.com/tmdbstatus/tmdbstatus/service"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// get answers a request of method for / with the Accept header accept
// ("" for none) from h.
func get(t *testing.T, h http.Handler, method, accept string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, "/", nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// body returns the body of resp.
func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var strongETag = regexp.MustCompile(`^"[A-Za-z0-9_-]+"$`)

// TestRepresentations checks the headers of both answers: their type, an
// exact Content-Length, a strong ETag that differs between them and is the
// same for every handler, Vary: Accept, and a CSP on the page only.
func TestRepresentations(t *testing.T) {
	h := home.New()
	tests := []struct {
		accept, contentType string
		csp                 bool
	}{
		{"", "application/json", false},
		{"*/*", "application/json", false},
		{"application/json", "application/json", false},
		{browserAccept, "text/html; charset=utf-8", true},
	}
	etags := map[string]string{}
	for _, tt := range tests {
		resp := get(t, h, http.MethodGet, tt.accept)
		b := body(t, resp)
		hdr := resp.Header
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET / (Accept %q): status %d; want 200", tt.accept, resp.StatusCode)
		}
		if got := hdr.Get("Content-Type"); got != tt.contentType {
			t.Errorf("GET / (Accept %q): Content-Type %q; want %q", tt.accept, got, tt.contentType)
		}
		if got, want := hdr.Get("Content-Length"), strconv.Itoa(len(b)); got != want {
			t.Errorf("GET / (Accept %q): Content-Length %q; want %s, the body's length", tt.accept, got, want)
		}
		if got := hdr.Values("Vary"); !slices.Contains(got, "Accept") {
			t.Errorf("GET / (Accept %q): Vary %q; want Accept", tt.accept, got)
		}
		if got := hdr.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET / (Accept %q): X-Content-Type-Options %q; want nosniff", tt.accept, got)
		}
		if got := hdr.Get("Content-Security-Policy") != ""; got != tt.csp {
			t.Errorf("GET / (Accept %q): has a Content-Security-Policy: %v; want %v", tt.accept, got, tt.csp)
		}
		etag := hdr.Get("ETag")
		if !strongETag.MatchString(etag) {
			t.Errorf("GET / (Accept %q): ETag %q; want a strong entity tag", tt.accept, etag)
		}
		if other, ok := etags[tt.contentType]; ok && other != etag {
			t.Errorf("GET / (Accept %q): ETag %q; want %q, as for the same body before", tt.accept, etag, other)
		}
		etags[tt.contentType] = etag
		if again := get(t, home.New(), http.MethodGet, tt.accept).Header.Get("ETag"); again != etag {
			t.Errorf("GET / (Accept %q): ETag %q from another handler; want %q", tt.accept, again, etag)
		}
	}
	if etags["application/json"] == etags["text/html; charset=utf-8"] {
		t.Errorf("the page and the index have the same ETag %s; want different ones", etags["application/json"])
	}
}

// TestHead checks that HEAD gets the headers of GET and no body.
func TestHead(t *testing.T) {
	h := home.New()
	for _, accept := range []string{"*/*", browserAccept} {
		getResp := get(t, h, http.MethodGet, accept)
		headResp := get(t, h, http.MethodHead, accept)
		if b := body(t, headResp); len(b) != 0 {
			t.Errorf("HEAD / (Accept %q): a body of %d bytes; want none", accept, len(b))
		}
		for _, k := range []string{"Content-Type", "Content-Length", "ETag", "Vary", "Content-Security-Policy"} {
			if got, want := headResp.Header.Get(k), getResp.Header.Get(k); got != want {
				t.Errorf("HEAD / (Accept %q): %s %q; want %q, as GET has", accept, k, got, want)
			}
		}
	}
}

// TestVaryKept checks that the handler adds to a Vary header already set
// rather than replacing it.
func TestVaryKept(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Vary", "Accept-Encoding")
	home.New().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got, want := w.Header().Values("Vary"), []string{"Accept-Encoding", "Accept"}; !slices.Equal(got, want) {
		t.Errorf("Vary %q; want %q", got, want)
	}
}

type index struct {
	Name        string
	Description string
	Routes      []struct{ Method, Path, RPC, Description string }
	OpenAPI     string
	Metrics     *string
}

// TestIndex checks the JSON index: every route of the REST API, each with
// the description of its own method, and the links.
func TestIndex(t *testing.T) {
	var got index
	if err := json.Unmarshal(body(t, get(t, home.New(), http.MethodGet, "application/json")), &got); err != nil {
		t.Fatalf("the index is not JSON: %v", err)
	}
	var paths []string
	for _, r := range got.Routes {
		paths = append(paths, r.Path)
		method := r.RPC[strings.LastIndex(r.RPC, ".")+1:]
		if !strings.HasPrefix(r.RPC, "tmdbstatus.v1.StatusService.") || !strings.HasPrefix(r.Description, method+" ") {
			t.Errorf("route %s %s: RPC %q, description %q; want a StatusService method and its own comment", r.Method, r.Path, r.RPC, r.Description)
		}
		if strings.Contains(r.Description, "\n") {
			t.Errorf("route %s %s: description %q; want one line", r.Method, r.Path, r.Description)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			t.Errorf("route %s %s: method %q; want GET or POST", r.Method, r.Path, r.Method)
		}
	}
	// Every route of the index is one the gateway serves, and the index
	// has each of the gateway's three routes.
	api := gateway.New(service.New())
	for _, r := range got.Routes {
		path := strings.ReplaceAll(r.Path, "{code}", "7")
		req := httptest.NewRequest(r.Method, path, strings.NewReader(`{"status_code":7}`))
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("route %s %s: the gateway answers %d; want a route it serves", r.Method, r.Path, rec.Code)
		}
	}
	if want := []string{"/v1/statuses/{code}", "/v1/statuses", "/v1/statuses:translate"}; !slices.Equal(slices.Sorted(slices.Values(paths)), slices.Sorted(slices.Values(want))) {
		t.Errorf("the index's paths are %q; want %q", paths, want)
	}
	if got.OpenAPI != "/openapi.json" || got.Metrics == nil || *got.Metrics != "/metrics" {
		t.Errorf("the index links to %q and %v; want /openapi.json and /metrics", got.OpenAPI, got.Metrics)
	}
	var noMetrics index
	if err := json.Unmarshal(body(t, get(t, home.New(home.WithMetricsPath("")), http.MethodGet, "")), &noMetrics); err != nil {
		t.Fatal(err)
	}
	if noMetrics.Metrics != nil {
		t.Errorf("with WithMetricsPath(\"\"), the index links to metrics at %q; want no link", *noMetrics.Metrics)
	}
}

// parsePage returns the page h serves to a browser, parsed, and its
// Content-Security-Policy.
func parsePage(t *testing.T, h http.Handler) (*html.Node, string) {
	t.Helper()
	resp := get(t, h, http.MethodGet, browserAccept)
	doc, err := html.Parse(strings.NewReader(string(body(t, resp))))
	if err != nil {
		t.Fatal(err)
	}
	return doc, resp.Header.Get("Content-Security-Policy")
}

// find returns the elements under n for which match is true, in document
// order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var found []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			found = append(found, d)
		}
	}
	return found
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// TestTable checks that the page has one row per entry of the table, in
// order, each with the id of its code, a link to itself, and TMDB's
// message.
func TestTable(t *testing.T) {
	doc, _ := parsePage(t, home.New())
	rows := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && n.Parent.DataAtom == atom.Tbody })
	entries := service.Entries()
	if len(rows) != len(entries) {
		t.Fatalf("the page's table has %d rows; want %d, one per entry", len(rows), len(entries))
	}
	ids := map[string]bool{}
	for _, n := range find(doc, func(n *html.Node) bool { return attr(n, "id") != "" }) {
		if ids[attr(n, "id")] {
			t.Errorf("id %q is on two elements", attr(n, "id"))
		}
		ids[attr(n, "id")] = true
	}
	for i, e := range entries {
		code := fmt.Sprint(e.TMDBCode())
		row := rows[i]
		if got := attr(row, "id"); got != code {
			t.Errorf("row %d: id %q; want %q", i, got, code)
		}
		links := find(row, func(n *html.Node) bool { return n.DataAtom == atom.A })
		if len(links) != 1 || attr(links[0], "href") != "#"+code {
			t.Errorf("row %s: links %v; want one to #%s", code, links, code)
		}
		if got := text(row); !strings.Contains(got, e.Message) || !strings.Contains(got, e.Reason) {
			t.Errorf("row %s: text %q; want TMDB's message %q and reason %q", code, got, e.Message, e.Reason)
		}
	}
}

// TestLinks checks the links to the OpenAPI description and the metrics,
// and that WithMetricsPath("") leaves the second out.
func TestLinks(t *testing.T) {
	hrefs := func(h http.Handler) []string {
		doc, _ := parsePage(t, h)
		var hs []string
		for _, a := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.A }) {
			if h := attr(a, "href"); !strings.HasPrefix(h, "#") {
				hs = append(hs, h)
			}
		}
		return hs
	}
	if got, want := hrefs(home.New()), []string{"/openapi.json", "/metrics"}; !slices.Equal(got, want) {
		t.Errorf("the page links to %q; want %q", got, want)
	}
	if got, want := hrefs(home.New(home.WithMetricsPath(""))), []string{"/openapi.json"}; !slices.Equal(got, want) {
		t.Errorf("with WithMetricsPath(\"\"), the page links to %q; want %q", got, want)
	}
	if got, want := hrefs(home.New(home.WithMetricsPath("/admin/metrics"))), []string{"/openapi.json", "/admin/metrics"}; !slices.Equal(got, want) {
		t.Errorf("with WithMetricsPath(\"/admin/metrics\"), the page links to %q; want %q", got, want)
	}
}

// TestContentSecurityPolicy checks that the policy allows the page's one
// inline script and one inline style by their hashes, and nothing else
// runs or loads: no other script, no style attribute, no external asset.
func TestContentSecurityPolicy(t *testing.T) {
	doc, csp := parsePage(t, home.New())
	directives := map[string]string{}
	for d := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	hash := func(n *html.Node) string {
		sum := sha256.Sum256([]byte(text(n)))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	for _, tt := range []struct {
		element   atom.Atom
		directive string
	}{{atom.Script, "script-src"}, {atom.Style, "style-src"}} {
		els := find(doc, func(n *html.Node) bool { return n.DataAtom == tt.element })
		if len(els) != 1 {
			t.Fatalf("the page has %d %s elements; want 1", len(els), tt.element)
		}
		if got, want := directives[tt.directive], hash(els[0]); got != want {
			t.Errorf("CSP %s %q; want %q, the hash of the page's %s", tt.directive, got, want, tt.element)
		}
	}
	for _, d := range []string{"default-src 'none'", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"} {
		name, value, _ := strings.Cut(d, " ")
		if directives[name] != value {
			t.Errorf("CSP %s %q; want %q", name, directives[name], value)
		}
	}
	for _, n := range find(doc, func(n *html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") || a.Key == "src" {
				t.Errorf("<%s %s=%q>: want no inline style, event handler or external source", n.Data, a.Key, a.Val)
			}
		}
		if n.DataAtom == atom.Link && attr(n, "href") != "data:," {
			t.Errorf("<link href=%q>: want no linked asset", attr(n, "href"))
		}
	}
}
