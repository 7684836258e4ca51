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
	statusMessage string   // TMDB's "status_message", unescaped
	errors        []string // the string elements of TMDB's "errors", unescaped
}

const (
	maxErrors   = 64       // the elements of "errors" kept; later ones are read but ignored
	maxBodyRead = 64 << 10 // the bytes of a body read; TMDB's are well under 1 KiB
)

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
