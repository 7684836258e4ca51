package home

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	"github.com/tmdbstatus/tmdbstatus/gen/openapiv2"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// The media types of the two representations of /, the first the default.
const (
	mediaJSON = "application/json"
	mediaHTML = "text/html"
)

// openAPIPath is the path of the OpenAPI description the page and the index link to.
const openAPIPath = "/openapi.json"

// An Option configures the handler New returns.
type Option func(*config)

type config struct{ metrics string }

// WithMetricsPath sets the path of the Prometheus metrics the page and the
// index link to, /metrics by default; "" leaves the link out.
func WithMetricsPath(path string) Option {
	return func(c *config) { c.metrics = path }
}

// New returns the handler of /, which answers every request as a GET (HEAD:
// without the body) of /: mount it on "GET /{$}". It panics if the answers,
// built here once, cannot be, which only a broken build can cause.
func New(opts ...Option) http.Handler {
	cfg := config{metrics: "/metrics"}
	for _, opt := range opts {
		opt(&cfg)
	}
	page, index, err := build(cfg)
	if err != nil {
		panic(fmt.Sprintf("home: %v", err))
	}
	pageRep := newRepresentation(mediaHTML+"; charset=utf-8", page)
	pageRep.header.Set("Content-Security-Policy", pageCSP)
	indexRep := newRepresentation(mediaJSON, index)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := indexRep
		if negotiate(r.Header.Values("Accept"), mediaJSON, mediaHTML) == mediaHTML {
			rep = pageRep
		}
		maps.Copy(w.Header(), rep.header.Clone())
		w.Header().Add("Vary", "Accept")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(rep.body) // A failed write means the client has gone.
		}
	})
}

// representation is one answer at /: its headers and body.
type representation struct {
	header http.Header
	body   []byte
}

// newRepresentation returns body as an answer of contentType, with a strong
// ETag of its content.
func newRepresentation(contentType string, body []byte) representation {
	header := http.Header{
		"Content-Type":           {contentType},
		"Content-Length":         {strconv.Itoa(len(body))},
		"Etag":                   {gateway.ETag(body)},
		"X-Content-Type-Options": {"nosniff"},
	}
	return representation{header: header, body: body}
}

// route is one REST route of the API: its HTTP method, path template, the
// full name of the RPC it calls and the RPC's proto comment, on one line.
type route struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	RPC         string `json:"rpc"`
	Description string `json:"description"`
}

// build returns the bodies of the page and the index cfg describes.
func build(cfg config) (page, index []byte, err error) {
	rs, err := routes(openapiv2.Spec)
	if err != nil {
		return nil, nil, err
	}
	index, err = json.MarshalIndent(struct {
		Name        string  `json:"name"`
		Description string  `json:"description"`
		Routes      []route `json:"routes"`
		OpenAPI     string  `json:"openapi"`
		Metrics     string  `json:"metrics,omitempty"`
	}{
		Name:        "tmdbstatus",
		Description: "Translates TMDB API errors into canonical gRPC statuses and serves TMDB's status-code table.",
		Routes:      rs,
		OpenAPI:     openAPIPath,
		Metrics:     cfg.metrics,
	}, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the index: %w", err)
	}
	translate := slices.IndexFunc(rs, func(r route) bool {
		return r.RPC == "tmdbstatus.v1.StatusService.Translate"
	})
	example, ok := service.Lookup(int32(tmdbstatusv1.TmdbStatus_TMDB_STATUS_REQUEST_LIMIT_EXCEEDED))
	if translate < 0 || !ok {
		return nil, nil, errors.New("the page needs the route of Translate and the table's code 25")
	}
	var html bytes.Buffer
	err = pageTemplate.Execute(&html, pageData{
		TranslatePath: rs[translate].Path,
		OpenAPI:       openAPIPath,
		Metrics:       cfg.metrics,
		Example:       example,
		Rows:          service.Entries(),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("rendering the page: %w", err)
	}
	return html.Bytes(), append(index, '\n'), nil
}

// routes returns gateway.Routes, each described by the summary of its
// operation in spec, the OpenAPI description generated from the same proto
// (the Go descriptors do not carry the proto's comments).
func routes(spec []byte) ([]route, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI description: %w", err)
	}
	summaries := make(map[string]string)
	for _, ops := range doc.Paths {
		for _, op := range ops {
			summaries[op.OperationID] = strings.Join(strings.Fields(op.Summary), " ")
		}
	}
	var rs []route
	for _, rt := range gateway.Routes() {
		// protoc-gen-openapiv2's default operationId is Service_Method.
		desc, ok := summaries[string(rt.RPC.Parent().Name())+"_"+string(rt.RPC.Name())]
		if !ok {
			return nil, fmt.Errorf("the OpenAPI description has no operation for %s", rt.RPC)
		}
		r := route{Method: rt.Method, Path: rt.Template, RPC: string(rt.RPC), Description: desc}
		rs = append(rs, r)
	}
	return rs, nil
}
