package home

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"

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

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// pageData is what the page template shows.
type pageData struct {
	// Style and Script are the page's own CSS and JavaScript, inlined as
	// they are: the Content-Security-Policy allows them by their hashes.
	Style  template.CSS
	Script template.JS
	// GRPCCodes are the names of the canonical gRPC codes, by number,
	// separated by spaces.
	GRPCCodes     string
	TranslatePath string
	OpenAPI       string
	Metrics       string // "" to leave the link out
	Example       example
	Rows          []pageRow
}

// example is the TMDB answer the form is filled with.
type example struct {
	Body       string
	HTTPStatus int
	RetryAfter string
}

// pageRow is one row of the page's table.
type pageRow struct {
	Code       int32
	HTTPStatus int
	HTTPText   string
	GRPCCode   string
	Retryable  bool
	Reason     string
	Message    string
}

// pageRows returns the rows of the page's table for entries.
func pageRows(entries []service.Entry) []pageRow {
	rows := make([]pageRow, len(entries))
	for i, e := range entries {
		rows[i] = pageRow{
			Code:       e.TMDBCode(),
			HTTPStatus: e.HTTPStatus,
			HTTPText:   http.StatusText(e.HTTPStatus),
			GRPCCode:   code.Code(e.Code).String(),
			Retryable:  e.Retryable,
			Reason:     e.Reason,
			Message:    e.Message,
		}
	}
	return rows
}

// grpcCodeNames returns the names of the canonical gRPC codes in number
// order, separated by spaces: "OK CANCELLED UNKNOWN ...".
func grpcCodeNames() string {
	names := make([]string, len(code.Code_name))
	for i := range names {
		names[i] = code.Code(i).String()
	}
	return strings.Join(names, " ")
}

// exampleOf returns the answer TMDB gives for e, as the form's example: the
// body TMDB sends, its HTTP status and a Retry-After of ten seconds.
func exampleOf(e service.Entry) example {
	body, err := json.Marshal(struct {
		Success       bool   `json:"success"`
		StatusCode    int32  `json:"status_code"`
		StatusMessage string `json:"status_message"`
	}{false, e.TMDBCode(), e.Message})
	if err != nil {
		panic(err) // A struct of a bool, an int and a string always marshals.
	}
	return example{Body: string(body), HTTPStatus: e.HTTPStatus, RetryAfter: "10"}
}

// renderPage returns the page d describes, and the Content-Security-Policy
// that lets it run its own style and script and nothing else.
func renderPage(d pageData) (page []byte, csp string, err error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		return nil, "", fmt.Errorf("rendering the page: %w", err)
	}
	csp = strings.Join([]string{
		"default-src 'none'",
		"script-src " + sourceHash(string(d.Script)),
		"style-src " + sourceHash(string(d.Style)),
		"connect-src 'self'",
		"img-src data:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return b.Bytes(), csp, nil
}

// sourceHash returns the CSP hash source of an inline script or style,
// such as 'sha256-...'.
func sourceHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
