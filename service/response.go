package service

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

const (
	cdnCloudFront     = "cloudfront" // MetadataCDN's value for TMDB's CDN
	maxInflatedBytes  = 64 << 10     // what a gzip body, such as a bomb, is inflated to at most
	maxHeaderMetadata = 128          // the longest header value copied into the metadata
)

// input is what a TranslateRequest says, once its body and headers are read.
type input struct {
	code       int32
	message    string
	errs       []string
	httpStatus int
	retryAfter string
	badBody    bool              // a body was given that is not TMDB's JSON
	md         map[string]string // ErrorInfo metadata read from the headers, or nil
}

// setMetadata sets md[k] to v if v is not empty.
func (in *input) setMetadata(k, v string) {
	if v == "" {
		return
	}
	if in.md == nil {
		in.md = make(map[string]string, 4)
	}
	in.md[k] = v
}

// readRequest reads req's fields, then its body and headers for what the fields leave unset.
func readRequest(req *tmdbstatusv1.TranslateRequest) input {
	h := readHeaders(req.GetHeaders())
	in := input{
		code:       req.GetStatusCode(),
		message:    req.GetStatusMessage(),
		errs:       req.GetErrors(),
		httpStatus: int(req.GetHttpStatus()),
		retryAfter: cmp.Or(req.GetRetryAfter(), h.retryAfter),
	}
	raw := req.GetBodyBytes()
	if len(raw) == 0 && req.GetBody() != "" {
		raw = []byte(req.GetBody())
	}
	if len(raw) > 0 {
		b, ok := parseBody(decodeBody(raw, h.contentEncoding))
		in.badBody = !ok
		if in.code == 0 && b.hasCode {
			in.code = b.statusCode
		}
		in.message = cmp.Or(in.message, b.statusMessage)
		if len(in.errs) == 0 {
			in.errs = b.errors
		}
	}
	if h.cdn {
		in.setMetadata(MetadataCDN, cdnCloudFront)
	}
	cfID, _ := truncate(h.cfID, maxHeaderMetadata)
	in.setMetadata(MetadataCDNRequestID, cfID)
	if in.badBody && h.contentType != "" {
		if mt, _, err := mime.ParseMediaType(h.contentType); err == nil {
			mt, _ = truncate(mt, maxHeaderMetadata)
			in.setMetadata(MetadataContentType, mt)
		}
	}
	return in
}

// responseHeaders is what readHeaders takes from a response's headers.
type responseHeaders struct {
	retryAfter, contentType, contentEncoding, cfID string
	cdn                                            bool // CloudFront answered or relayed it
}

// readHeaders reads the headers tmdbstatus uses; of a repeated one, the
// first value counts, but any X-Cache or Via may name CloudFront.
func readHeaders(hs []*tmdbstatusv1.Header) responseHeaders {
	var r responseHeaders
	for _, h := range hs {
		name, v := h.GetName(), strings.TrimSpace(h.GetValue())
		switch {
		case strings.EqualFold(name, "Retry-After") && r.retryAfter == "":
			r.retryAfter = v
		case strings.EqualFold(name, "Content-Type") && r.contentType == "":
			r.contentType = v
		case strings.EqualFold(name, "Content-Encoding") && r.contentEncoding == "":
			r.contentEncoding = v
		case strings.EqualFold(name, "X-Amz-Cf-Id") && r.cfID == "":
			r.cfID = v
		case strings.EqualFold(name, "X-Cache"):
			r.cdn = r.cdn || hasPrefixFold(v, "error from cloudfront")
		case strings.EqualFold(name, "Via"):
			r.cdn = r.cdn || containsFold(v, "cloudfront")
		}
	}
	return r
}

// maxRetryAfter bounds a retry delay: a larger one is more likely a mistake than advice.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value (RFC 9110 10.2.3) as a delay from now, zero if
// passed, and reports false for an empty or invalid one.
func parseRetryAfter(v string, now func() time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64) // fails only on a huge number
		if err != nil || secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now()), 0), maxRetryAfter), true
}

// decodeBody returns a body's bytes to read as JSON: inflated if they start with gzip's magic
// bytes, whatever Content-Encoding says; nil if it names an encoding other than gzip.
func decodeBody(b []byte, contentEncoding string) []byte {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil
		}
		out, _ := io.ReadAll(io.LimitReader(zr, maxInflatedBytes)) // what inflates before a break
		return out
	}
	switch strings.ToLower(contentEncoding) {
	case "", "identity", "gzip", "x-gzip":
		return b
	}
	return nil
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold reports whether s holds sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
