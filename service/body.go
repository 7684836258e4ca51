package service

import (
	"bytes"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// tmdbBody is what parseBody found in a TMDB response body.
type tmdbBody struct {
	statusCode    int32    // TMDB's "status_code"; valid only if hasCode
	hasCode       bool     // whether "status_code" held an integer in int32 range
	statusMessage string   // TMDB's "status_message", unescaped; "" if absent
	errors        []string // TMDB's "errors", unescaped
}

// maxErrors is the number of string elements of "errors" that parseBody
// keeps; later elements are read but ignored.
const maxErrors = 64

// maxBodyRead is the number of leading bytes of a body that parseBody reads:
// TMDB's error bodies are well under 1 KiB, so more is only an abuser's work.
const maxBodyRead = 64 << 10

// parseBody reads a TMDB JSON error body. It reports ok=false when b does not
// start (after whitespace) with a JSON object, and then body is zero.
//
// It reads b token by token with jsontext, without recursion, and never
// panics; a b longer than maxBodyRead is read as if truncated there, which
// bounds its time. Its rules are these:
//
//   - Keys are matched exactly, after unescaping, and case-sensitively; other
//     keys are skipped whatever their value. When a key repeats, the last
//     complete value wins, as with encoding/json: a value of the wrong type
//     resets the field (hasCode=false, statusMessage="", errors=nil).
//   - "status_code" sets hasCode only for a JSON integer in int32 range; a
//     fraction or exponent (7.0, 7.5, 7e0), an out-of-range integer, a string
//     or null leave hasCode false without stopping the parse.
//   - Strings are unescaped as encoding/json does: a lone surrogate and each
//     byte of invalid UTF-8 become U+FFFD, so every string is valid UTF-8.
//   - "errors" keeps the string elements of an array, in order, up to
//     maxErrors of them; other elements are skipped. It is nil when absent,
//     not an array, or without string elements.
//   - On malformed or truncated JSON, parsing stops at the first syntax error
//     and keeps the fields whose values were complete before it, ok staying
//     true. A string, array or object is complete at its closing quote or
//     bracket. A number, true, false or null is complete only once it is
//     followed by a byte that may follow a value (whitespace, ',', '}' or
//     ']'): at the end of the input `"status_code":7` might have been the
//     start of 75, so it does not count. Anything after the top-level object
//     is ignored.
//   - Nesting deeper than jsontext's limit (10,000) is a syntax error like any
//     other, so only the fields before the too-deep value are kept: TMDB's
//     error bodies are flat, and only an abuser nests that deep.
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

// bodyCode returns the value of t if it is a JSON integer in int32 range.
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

// bodyParser is parseBody's decoder, the body it reads and a buffer for keys.
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

// value reads the next value and returns it if it is a string, a number or a
// literal (valid until the next read), and if array is true the string
// elements of an array (up to maxErrors). ok is false if the value is
// malformed, truncated or, for a number or a literal, not followed by a byte
// that may follow a value.
func (p *bodyParser) value(array bool) (t jsontext.Token, errs []string, ok bool) {
	t, err := p.dec.ReadToken()
	switch kind := t.Kind(); {
	case err != nil:
		return jsontext.Token{}, nil, false
	case kind == '{' || kind == '[' && !array:
		return jsontext.Token{}, nil, p.skip()
	case kind == '[':
		errs, ok = p.array()
		return jsontext.Token{}, errs, ok
	case kind == '"':
		return t, nil, true
	}
	next := p.dec.UnreadBuffer() // the rest of the body
	return t, nil, len(next) > 0 && strings.IndexByte(" \t\r\n,}]", next[0]) >= 0
}

// array reads the rest of an array after its '[' and returns its string
// elements, up to maxErrors of them.
func (p *bodyParser) array() (errs []string, ok bool) {
	for {
		t, err := p.dec.ReadToken()
		switch kind := t.Kind(); {
		case err != nil:
			return nil, false
		case kind == ']':
			return errs, true
		case kind == '{' || kind == '[':
			if !p.skip() {
				return nil, false
			}
		case kind == '"' && len(errs) < maxErrors:
			errs = append(errs, t.String())
		}
	}
}

// skip reads the rest of the object or array whose opening bracket was just
// read, and reports whether it got to the closing one before a syntax error.
func (p *bodyParser) skip() bool {
	for depth := p.dec.StackDepth(); p.dec.StackDepth() >= depth; {
		if _, err := p.dec.ReadToken(); err != nil {
			return false
		}
	}
	return true
}
