package home

import (
	"strings"
	"testing"
)

// TestPageEscapes checks that the text the page shows is escaped for where
// it stands: a message, a reason and an example body with markup stay
// text, and an attribute value stays one attribute.
func TestPageEscapes(t *testing.T) {
	const evil = `</td><script>alert("x")</script>&amp;’`
	page, _, err := renderPage(pageData{
		GRPCCodes:     `OK" onmouseover="alert(1)`,
		TranslatePath: "/v1/statuses:translate",
		OpenAPI:       OpenAPIPath,
		Example:       example{Body: `</textarea><script>alert(1)</script>`, HTTPStatus: 429, RetryAfter: `10"><b>`},
		Rows:          []pageRow{{Code: 1, Reason: evil, Message: evil, GRPCCode: evil, HTTPText: evil}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := string(page)
	for _, bad := range []string{"<script>alert", `" onmouseover="`, `"><b>`, "</textarea><script>", "</td><script>"} {
		if strings.Contains(got, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"&lt;/td&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;amp;’",
		"&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>",
		`data-grpc-codes="OK&#34; onmouseover=&#34;alert(1)"`,
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
