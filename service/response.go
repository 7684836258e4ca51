package service

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// cdnCloudFront is the value of MetadataCDN for TMDB's CDN.
const cdnCloudFront = "cloudfront"

// maxInflatedBytes bounds what a gzip body is inflated to: TMDB's error
// bodies are a few hundred bytes, so a compression bomb costs no more than
// this.
const maxInflatedBytes = 64 << 10

// maxHeaderMetadata bounds a header value copied into the metadata.
const maxHeaderMetadata = 128

// input is what a TranslateRequest says, once its body and headers are read.
type input struct {
	code       int32
	message    string
	errs       []string
	httpStatus int
	retryAfter string
	hasBody    bool // a body was given
	bodyRead   bool // and it was TMDB's JSON
	extra      extraMetadata
}

// extraMetadata is the ErrorInfo metadata read from the headers.
type extraMetadata struct {
	cdn, cdnRequestID, contentType string
}

func (e extraMetadata) empty() bool { return e == extraMetadata{} }

// addTo adds the keys of e that are set to md.
func (e extraMetadata) addTo(md map[string]string) {
	if e.cdn != "" {
		md[MetadataCDN] = e.cdn
	}
	if e.cdnRequestID != "" {
		md[MetadataCDNRequestID] = e.cdnRequestID
	}
	if e.contentType != "" {
		md[MetadataContentType] = e.contentType
	}
}

// readRequest reads req: its fields, then its body and headers for what the
// fields leave unset.
func readRequest(req *tmdbstatusv1.TranslateRequest) input {
	in := input{
		code:       req.GetStatusCode(),
		message:    req.GetStatusMessage(),
		errs:       req.GetErrors(),
		httpStatus: int(req.GetHttpStatus()),
		retryAfter: req.GetRetryAfter(),
	}
	h := readHeaders(req.GetHeaders())
	if in.retryAfter == "" {
		in.retryAfter = h.retryAfter
	}
	raw := req.GetBodyBytes()
	if len(raw) == 0 && req.GetBody() != "" {
		raw = []byte(req.GetBody())
	}
	in.hasBody = len(raw) > 0
	if in.hasBody {
		b, ok := parseBody(decodeBody(raw, h.contentEncoding))
		in.bodyRead = ok
		if in.code == 0 && b.hasCode {
			in.code = b.statusCode
		}
		if in.message == "" {
			in.message = b.statusMessage
		}
		if len(in.errs) == 0 {
			in.errs = b.errors
		}
	}
	if h.cdn {
		in.extra.cdn = cdnCloudFront
	}
	in.extra.cdnRequestID = metadataValue(h.cfID)
	if in.hasBody && !in.bodyRead && h.contentType != "" {
		if mt, _, err := mime.ParseMediaType(h.contentType); err == nil {
			in.extra.contentType = metadataValue(mt)
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
	first := func(dst *string, v string) {
		if *dst == "" {
			*dst = strings.TrimSpace(v)
		}
	}
	for _, h := range hs {
		name, v := h.GetName(), h.GetValue()
		switch {
		case strings.EqualFold(name, "Retry-After"):
			first(&r.retryAfter, v)
		case strings.EqualFold(name, "Content-Type"):
			first(&r.contentType, v)
		case strings.EqualFold(name, "Content-Encoding"):
			first(&r.contentEncoding, v)
		case strings.EqualFold(name, "X-Amz-Cf-Id"):
			first(&r.cfID, v)
		case strings.EqualFold(name, "X-Cache"):
			r.cdn = r.cdn || hasPrefixFold(strings.TrimSpace(v), "error from cloudfront")
		case strings.EqualFold(name, "Via"):
			r.cdn = r.cdn || containsFold(v, "cloudfront")
		}
	}
	return r
}

// decodeBody returns the bytes of a response body to read as TMDB's JSON:
// inflated if it starts with gzip's magic bytes, whatever Content-Encoding
// says (a decoded JSON or HTML body never does), as it is with no encoding,
// identity or gzip (a body already decoded), and nil with another encoding
// (br, deflate, zstd), whose bytes are no text.
func decodeBody(b []byte, contentEncoding string) []byte {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return inflate(b)
	}
	switch {
	case contentEncoding == "", strings.EqualFold(contentEncoding, "identity"),
		strings.EqualFold(contentEncoding, "gzip"), strings.EqualFold(contentEncoding, "x-gzip"):
		return b
	}
	return nil
}

// inflate returns the first maxInflatedBytes of the gzip data b, or what
// could be inflated before b ends or breaks.
func inflate(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, maxInflatedBytes))
	return out
}

// metadataValue makes a header value fit for the metadata: valid UTF-8, no
// credential, at most maxHeaderMetadata bytes.
func metadataValue(v string) string {
	if v == "" {
		return ""
	}
	v = redact(strings.ToValidUTF8(v, "\uFFFD"))
	if len(v) > maxHeaderMetadata {
		n := maxHeaderMetadata
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	return v
}

// hasPrefixFold reports whether s starts with the lowercase ASCII prefix,
// ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold reports whether s holds the lowercase ASCII sub, ignoring
// case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
