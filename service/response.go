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
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

const (
	cdnCloudFront     = "cloudfront"   // MetadataCDN's value for TMDB's CDN
	maxInflatedBytes  = 64 << 10       // what a gzip body, such as a bomb, is inflated to at most
	maxHeaderMetadata = 128            // the longest header value copied into the metadata
	maxErrors         = 64             // the elements of "errors" kept; later ones are skipped
	maxBodyRead       = 64 << 10       // the bytes of a body read; TMDB's are well under 1 KiB
	maxRetryAfter     = 24 * time.Hour // a longer retry delay is more likely a mistake than advice
)

// setMetadata sets t.md[k] to v if v is not empty.
func (t *translation) setMetadata(k, v string) {
	if v == "" {
		return
	}
	if t.md == nil {
		t.md = make(map[string]string, 4)
	}
	t.md[k] = v
}

// readRequest reads what req says TMDB answered: its fields, then its body and headers for what
// the fields leave unset. badBody reports a body that is not TMDB's JSON.
func readRequest(req *tmdbstatusv1.TranslateRequest) (t translation, retryAfter string, badBody bool) {
	h := readHeaders(req.GetHeaders())
	t = translation{
		tmdbCode: req.GetStatusCode(),
		message:  req.GetStatusMessage(),
		errors:   req.GetErrors(),
		http:     int(req.GetHttpStatus()),
	}
	raw := req.GetBodyBytes()
	if len(raw) == 0 && req.GetBody() != "" {
		raw = []byte(req.GetBody())
	}
	if len(raw) > 0 {
		b, ok := parseBody(decodeBody(raw, h.contentEncoding))
		badBody = !ok
		if t.tmdbCode == 0 && b.hasCode {
			t.tmdbCode = b.statusCode
		}
		t.message = cmp.Or(t.message, b.statusMessage)
		if len(t.errors) == 0 {
			t.errors = b.errors
		}
	}
	t.setMetadata(MetadataCDN, h.cdn)
	cfID, _ := truncate(h.cfID, maxHeaderMetadata)
	t.setMetadata(MetadataCDNRequestID, cfID)
	if badBody && h.contentType != "" {
		if mt, _, err := mime.ParseMediaType(h.contentType); err == nil {
			mt, _ = truncate(mt, maxHeaderMetadata)
			t.setMetadata(MetadataContentType, mt)
		}
	}
	return t, cmp.Or(req.GetRetryAfter(), h.retryAfter), badBody
}

// responseHeaders is what readHeaders takes from a response's headers.
type responseHeaders struct {
	retryAfter, contentType, contentEncoding, cfID string
	cdn                                            string // cdnCloudFront if CloudFront sent or relayed it
}

// readHeaders reads the headers tmdbstatus uses: the first of each, but any X-Cache or Via.
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
		case strings.EqualFold(name, "X-Cache") && hasPrefixFold(v, "error from cloudfront"),
			strings.EqualFold(name, "Via") && containsFold(v, "cloudfront"):
			r.cdn = cdnCloudFront
		}
	}
	return r
}

// parseRetryAfter reads a Retry-After value (RFC 9110 10.2.3) as a delay from now, if it is valid.
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

// tmdbBody is what parseBody found in a TMDB response body.
type tmdbBody struct {
	statusCode    int32    // TMDB's "status_code"; valid only if hasCode
	hasCode       bool     // whether "status_code" held an integer in int32 range
	statusMessage string   // TMDB's "status_message", unescaped
	errors        []string // the string elements of TMDB's "errors", unescaped
}

// parseBody reads a TMDB JSON error body token by token, as docs/mapping.md says, keeping the
// values complete before a syntax error; ok is false if b does not hold a JSON object.
func parseBody(b []byte) (body tmdbBody, ok bool) {
	b = b[:min(len(b), maxBodyRead)]
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return tmdbBody{}, false
	}
	p := bodyParsers.Get().(*bodyParser)
	defer p.release()
	p.buf = *bytes.NewBuffer(b)
	p.dec.Reset(&p.buf, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	p.dec.ReadToken() // the '{' checked above
	for p.dec.PeekKind() == '"' {
		raw, err := p.dec.ReadValue()
		if err != nil {
			break
		}
		p.key, _ = jsontext.AppendUnquote(p.key[:0], raw)
		t, errs, ok := p.value(string(p.key) == "errors")
		switch key := p.key; {
		case !ok:
			return body, true
		case string(key) == "status_code":
			body.statusCode, body.hasCode = bodyCode(t)
		case string(key) == "status_message" && t.Kind() == '"':
			body.statusMessage = t.String()
		case string(key) == "status_message":
			body.statusMessage = ""
		case string(key) == "errors":
			body.errors = errs
		}
	}
	return body, true // the closing '}' or a syntax error
}

// bodyCode returns t's value if it is a JSON integer in int32 range.
func bodyCode(t jsontext.Token) (code int32, ok bool) {
	if t.Kind() == '0' {
		if n, err := t.Int(); err == nil && n == int64(int32(n)) {
			return int32(n), true
		}
	}
	return 0, false
}

// bodyParsers keeps parsers, and the stacks their decoders grew, across calls.
var bodyParsers = sync.Pool{New: func() any { return new(bodyParser) }}

// bodyParser is parseBody's decoder, its body and a buffer for keys.
type bodyParser struct {
	buf bytes.Buffer
	dec jsontext.Decoder
	key []byte // the last key read, unescaped
}

// release drops p's references to the body read and puts p back in the pool.
func (p *bodyParser) release() {
	p.buf = bytes.Buffer{}
	p.dec.Reset(&p.buf)
	bodyParsers.Put(p)
}

// value reads the next value: a scalar as t (valid until the next read) or, if array is true,
// an array's strings; ok is false if the value is not complete.
func (p *bodyParser) value(array bool) (t jsontext.Token, errs []string, ok bool) {
	switch kind := p.dec.PeekKind(); {
	case kind == '[' && array:
		p.dec.ReadToken() // the '[' peeked
		errs, ok = p.array()
		return jsontext.Token{}, errs, ok
	case kind == '{' || kind == '[':
		return jsontext.Token{}, nil, p.dec.SkipValue() == nil
	}
	t, err := p.dec.ReadToken()
	switch {
	case err != nil:
		return jsontext.Token{}, nil, false
	case t.Kind() == '"':
		return t, nil, true
	}
	next := p.dec.UnreadBuffer() // the rest of the body
	return t, nil, len(next) > 0 && strings.IndexByte(" \t\r\n,}]", next[0]) >= 0
}

// array reads the rest of an array after its '[' and returns up to maxErrors of its strings.
func (p *bodyParser) array() (errs []string, ok bool) {
	for {
		if kind := p.dec.PeekKind(); kind == '{' || kind == '[' {
			if p.dec.SkipValue() != nil {
				return nil, false
			}
			continue
		}
		t, err := p.dec.ReadToken()
		switch kind := t.Kind(); {
		case err != nil:
			return nil, false
		case kind == ']':
			return errs, true
		case kind == '"' && len(errs) < maxErrors:
			errs = append(errs, t.String())
		}
	}
}
