package home

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/tmdbstatus/tmdbstatus/gen/openapiv2"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// The media types of the two representations of /, the first the default.
const (
	mediaJSON = "application/json"
	mediaHTML = "text/html"
)

// OpenAPIPath is the path of the OpenAPI description the page and the
// index link to.
const OpenAPIPath = "/openapi.json"

// DefaultMetricsPath is the path of the Prometheus metrics the page and the
// index link to, unless WithMetricsPath says otherwise.
const DefaultMetricsPath = "/metrics"

// An Option configures the handler New returns.
type Option func(*config)

type config struct {
	metrics string
}

// WithMetricsPath sets the path of the Prometheus metrics the page and the
// index link to; "" leaves the link out, for a server whose metrics are on
// another listener.
func WithMetricsPath(path string) Option {
	return func(c *config) { c.metrics = path }
}

// representation is one answer at /, built once.
type representation struct {
	contentType, contentLength, etag string
	csp                              string // "" for none
	body                             []byte
}

// handler serves / in its two representations.
type handler struct {
	html, json representation
}

// New returns the handler of /: the page for a client that prefers
// text/html, else the JSON index of the routes (see the package
// documentation). It answers every request as a GET (HEAD: without the
// body) of /, whatever its method and path: mount it on "GET /{$}". Both
// answers are built here, once; New panics if they cannot be, which only a
// broken build can cause.
func New(opts ...Option) http.Handler {
	cfg := config{metrics: DefaultMetricsPath}
	for _, opt := range opts {
		opt(&cfg)
	}
	h, err := build(cfg)
	if err != nil {
		panic(fmt.Sprintf("home: %v", err))
	}
	return h
}

// build returns the handler cfg describes.
func build(cfg config) (*handler, error) {
	rs, err := routes(statusService, openapiv2.Spec)
	if err != nil {
		return nil, err
	}
	indexJSON, err := json.MarshalIndent(index{
		Name:        "tmdbstatus",
		Description: "Translates TMDB API errors into canonical gRPC statuses and serves TMDB's status-code table.",
		Routes:      rs,
		OpenAPI:     OpenAPIPath,
		Metrics:     cfg.metrics,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the index: %w", err)
	}
	translatePath, err := pathOf(rs, string(statusService.Methods().ByName("Translate").FullName()))
	if err != nil {
		return nil, err
	}
	limited, ok := service.Lookup(int32(tmdbstatusv1.TmdbStatus_TMDB_STATUS_REQUEST_LIMIT_EXCEEDED))
	if !ok {
		return nil, fmt.Errorf("the table has no entry for the example, code 25")
	}
	page, csp, err := renderPage(pageData{
		Style:         template.CSS(pageStyle),
		Script:        template.JS(pageScript),
		GRPCCodes:     grpcCodeNames(),
		TranslatePath: translatePath,
		OpenAPI:       OpenAPIPath,
		Metrics:       cfg.metrics,
		Example:       exampleOf(limited),
		Rows:          pageRows(service.Entries()),
	})
	if err != nil {
		return nil, err
	}
	html := newRepresentation(mediaHTML+"; charset=utf-8", page)
	html.csp = csp
	return &handler{
		html: html,
		json: newRepresentation(mediaJSON, append(indexJSON, '\n')),
	}, nil
}

// pathOf returns the path of the first route of rs that calls rpc.
func pathOf(rs []route, rpc string) (string, error) {
	for _, r := range rs {
		if r.RPC == rpc {
			return r.Path, nil
		}
	}
	return "", fmt.Errorf("no route calls %s", rpc)
}

// newRepresentation returns body as an answer of contentType, with a strong
// ETag of its content.
func newRepresentation(contentType string, body []byte) representation {
	sum := sha256.Sum256(body)
	return representation{
		contentType:   contentType,
		contentLength: strconv.Itoa(len(body)),
		etag:          `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		body:          body,
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := &h.json
	if negotiate(r.Header.Values("Accept"), mediaJSON, mediaHTML) == mediaHTML {
		rep = &h.html
	}
	header := w.Header()
	header.Set("Content-Type", rep.contentType)
	header.Set("Content-Length", rep.contentLength)
	header.Set("ETag", rep.etag)
	header.Add("Vary", "Accept")
	header.Set("X-Content-Type-Options", "nosniff")
	if rep.csp != "" {
		header.Set("Content-Security-Policy", rep.csp)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(rep.body) // A failed write means the client has gone.
	}
}
