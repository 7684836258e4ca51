package home

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"

	"github.com/tmdbstatus/tmdbstatus/service"
)

var (
	//go:embed page.html.tmpl
	pageHTML string
	//go:embed page.css
	pageStyle string
	//go:embed page.js
	pageScript string
)

// pageTemplate renders a pageData, with the page's own CSS and JavaScript
// inlined as they are: pageCSP allows them by their hashes.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"style":     func() template.CSS { return template.CSS(pageStyle) },
	"script":    func() template.JS { return template.JS(pageScript) },
	"grpcCodes": grpcCodeNames,
	"grpcCode":  func(c codes.Code) string { return code.Code(c).String() },
	"httpText":  http.StatusText,
	"tmdbBody":  tmdbBody,
}).Parse(pageHTML))

// pageData is what the page template shows.
type pageData struct {
	TranslatePath string
	OpenAPI       string
	Metrics       string        // "" to leave the link out
	Example       service.Entry // the TMDB answer the form is filled with
	Rows          []service.Entry
}

// pageCSP allows the page its own style and script, fetch to its own origin, and nothing else.
var pageCSP = strings.Join([]string{
	"default-src 'none'",
	"script-src " + sourceHash(pageScript),
	"style-src " + sourceHash(pageStyle),
	"connect-src 'self'",
	"img-src data:",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
}, "; ")

// sourceHash returns the CSP hash source of an inline script or style: 'sha256-...'.
func sourceHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// grpcCodeNames returns the canonical gRPC codes' names in number order: "OK CANCELLED ...".
func grpcCodeNames() string {
	names := make([]string, len(code.Code_name))
	for i := range names {
		names[i] = code.Code(i).String()
	}
	return strings.Join(names, " ")
}

// tmdbBody returns the body TMDB answers with for e.
func tmdbBody(e service.Entry) (string, error) {
	body, err := json.Marshal(struct {
		Success       bool   `json:"success"`
		StatusCode    int32  `json:"status_code"`
		StatusMessage string `json:"status_message"`
	}{false, e.TMDBCode(), e.Message})
	return string(body), err
}
