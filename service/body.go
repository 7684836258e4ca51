package service

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
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

// parseBody reads a TMDB JSON error body. It reports ok=false when b does not
// start (after whitespace) with a JSON object, and then body is zero.
//
// It reads b token by token with encoding/json's Decoder, which has no
// recursion and no depth limit (jsontext stops at a depth of 10,000), so it
// takes time linear in len(b) whatever the nesting, and never panics. Its
// rules are these:
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
func parseBody(b []byte) (body tmdbBody, ok bool) {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return tmdbBody{}, false
	}
	p := bodyParser{b: b, dec: json.NewDecoder(bytes.NewReader(b))}
	p.dec.UseNumber()
	p.dec.Token() // the '{' checked above
	for {
		key, err := p.dec.Token()
		name, isKey := key.(string)
		if err != nil || !isKey {
			return body, true // the closing '}' or a syntax error
		}
		t, ok := p.value()
		switch {
		case !ok:
			return body, true
		case name == "status_code":
			n, _ := t.(json.Number)
			c, err := strconv.ParseInt(string(n), 10, 32)
			if err != nil {
				c = 0
			}
			body.statusCode, body.hasCode = int32(c), err == nil
		case name == "status_message":
			body.statusMessage, _ = t.(string)
		case name == "errors":
			body.errors, _ = t.([]string)
		}
	}
}

// bodyParser holds parseBody's decoder and the bytes it reads.
type bodyParser struct {
	b   []byte
	dec *json.Decoder
}

// value reads the next value and returns it if it is a scalar or the string
// elements of an array (up to maxErrors, nil if none), and nil for an object.
// ok is false if the value is malformed, truncated or, for a number or a
// literal, not followed by a byte that may follow a value.
func (p *bodyParser) value() (v json.Token, ok bool) {
	t, err := p.dec.Token()
	switch {
	case err != nil:
		return nil, false
	case t == json.Delim('{'):
		return nil, p.skip(1)
	case t == json.Delim('['):
		return p.array()
	}
	if _, isString := t.(string); isString {
		return t, true
	}
	off := p.dec.InputOffset()
	return t, off < int64(len(p.b)) && strings.IndexByte(" \t\r\n,}]", p.b[off]) >= 0
}

// array reads the rest of an array after its '[' and returns its string
// elements, up to maxErrors of them.
func (p *bodyParser) array() (errs []string, ok bool) {
	for {
		t, err := p.dec.Token()
		switch {
		case err != nil:
			return nil, false
		case t == json.Delim(']'):
			return errs, true
		case t == json.Delim('{') || t == json.Delim('['):
			if !p.skip(1) {
				return nil, false
			}
		}
		if s, isString := t.(string); isString && len(errs) < maxErrors {
			errs = append(errs, s)
		}
	}
}

// skip reads tokens until depth brackets are closed, and reports whether it
// got there before a syntax error.
func (p *bodyParser) skip(depth int) bool {
	for depth > 0 {
		t, err := p.dec.Token()
		switch {
		case err != nil:
			return false
		case t == json.Delim('{') || t == json.Delim('['):
			depth++
		case t == json.Delim('}') || t == json.Delim(']'):
			depth--
		}
	}
	return true
}
