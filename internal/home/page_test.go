package home

import (
	"strings"
	"testing"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestPageEscapes checks that the text the page shows is escaped for where
// it stands: a message and a reason with markup stay text, and an attribute
// value stays one attribute.
func TestPageEscapes(t *testing.T) {
	const evil = `</td><script>alert("x")</script>&amp;’`
	var page strings.Builder
	err := pageTemplate.Execute(&page, pageData{
		TranslatePath: `/v1/statuses:translate" onmouseover="alert(1)"><b>`,
		OpenAPI:       openAPIPath,
		Example:       service.Entry{Message: `</textarea><script>alert(1)</script>`, HTTPStatus: 429},
		Rows:          []service.Entry{{Status: 1, Reason: evil, Message: evil}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := page.String()
	for _, bad := range []string{"<script>alert", `" onmouseover="`, `"><b>`, "</textarea><script>", "</td><script>"} {
		if strings.Contains(got, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"&lt;/td&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;amp;’",
		`\u003c/textarea\u003e\u003cscript\u003ealert(1)\u003c/script\u003e&#34;}</textarea>`,
		`data-action="/v1/statuses:translate%22%20onmouseover=%22alert%281%29%22%3e%3cb%3e"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the page does not hold %q", want)
		}
	}
}

// TestSourceHash checks sourceHash against the example of the CSP
// specification (Level 3, section 2.3.1, "'sha256-' hash of alert('Hello, world.');").
func TestSourceHash(t *testing.T) {
	const want = "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
	if got := sourceHash("alert('Hello, world.');"); got != want {
		t.Errorf("sourceHash(%q) = %s; want %s", "alert('Hello, world.');", got, want)
	}
}
