package service

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// tmdbBody is what parseBody found in a TMDB response body.
type tmdbBody struct {
	statusCode    int32    // TMDB's "status_code"; valid only if hasCode
	hasCode       bool     // whether "status_code" held an integer in int32 range
	statusMessage string   // TMDB's "status_message", unescaped; "" if absent
	success       bool     // TMDB's "success"
	errors        []string // TMDB's "errors", unescaped
}

// maxErrors is the number of string elements of "errors" that parseBody
// keeps; later elements are scanned but ignored.
const maxErrors = 64

// maxEscapedKeyLen is the longest raw key, escapes included, that can still
// decode to one of the keys parseBody looks for: "status_message" is 14 bytes
// and every decoded byte takes at most 6 raw bytes (\u0041).
const maxEscapedKeyLen = 14 * 6

// parseBody reads a TMDB JSON error body. It reports ok=false when b does not
// start (after whitespace) with a JSON object, and then body is zero.
//
// It is a single pass over b, in time linear in len(b), with no recursion:
// unknown values are skipped iteratively whatever their depth. It never
// panics. Its rules are these:
//
//   - Keys are matched exactly, after unescaping, and case-sensitively; other
//     keys are skipped whatever their value. When a key repeats, the last
//     complete value wins, as with encoding/json: a value of the wrong type
//     resets the field (hasCode=false, statusMessage="", success=false,
//     errors=nil).
//   - "status_code" sets hasCode only for a JSON integer in int32 range; a
//     fraction or exponent (7.0, 7.5, 7e0), an out-of-range integer, a string
//     or null leave hasCode false without stopping the parse.
//   - Strings are fully unescaped: \uXXXX surrogate pairs are combined, a lone
//     surrogate becomes U+FFFD, and so does each byte of invalid UTF-8 (exactly
//     as encoding/json does), so every string returned is valid UTF-8. Raw
//     control characters inside strings, which JSON forbids, are tolerated and
//     kept as they are.
//   - "errors" keeps the string elements of an array, in order, up to
//     maxErrors of them; other elements are skipped. It is nil when absent,
//     not an array, or without string elements.
//   - On malformed or truncated JSON, parsing stops at the first syntax error
//     and keeps the fields whose values were complete before it, ok staying
//     true. A string or array is complete at its closing quote or bracket. A
//     number, true, false or null is complete only once it is followed by a
//     byte that may follow a value (whitespace, ',', '}' or ']'): at the end
//     of the input `"status_code":7` might have been the start of 75, so it
//     does not count, and neither does an errors array without its ']'.
//   - Inside a skipped unknown array or object, brackets are balanced by count
//     and strings are checked, but the grammar is not otherwise validated, so
//     garbage nested in an unknown value does not stop the parse. Anything
//     after the top-level object is ignored.
//
// A body without escapes or invalid UTF-8 costs one allocation per string
// kept (plus the errors slice); escapes or invalid UTF-8 add allocations only
// for strings longer than 256 bytes.
func parseBody(b []byte) (body tmdbBody, ok bool) {
	i := jsonSkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return tmdbBody{}, false
	}
	i = jsonSkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return body, true
	}
	for {
		// Key.
		if i >= len(b) || b[i] != '"' {
			return body, true
		}
		end, esc, sok := jsonScanString(b, i+1)
		if !sok {
			return body, true
		}
		k := matchBodyKey(b[i+1:end], esc)
		i = jsonSkipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return body, true
		}
		i = jsonSkipSpace(b, i+1)
		if i >= len(b) {
			return body, true
		}

		// Value.
		var vok bool
		switch k {
		case bodyKeyStatusCode:
			var n int32
			var isInt bool
			if c := b[i]; c == '-' || jsonIsDigit(c) {
				i, n, isInt, vok = jsonScanNumber(b, i)
			} else {
				i, vok = jsonSkipValue(b, i)
			}
			if vok {
				body.statusCode, body.hasCode = n, isInt
			}
		case bodyKeyStatusMessage:
			var s string
			if b[i] == '"' {
				i, s, vok = readBodyString(b, i)
			} else {
				i, vok = jsonSkipValue(b, i)
			}
			if vok {
				body.statusMessage = s
			}
		case bodyKeySuccess:
			var t bool
			switch b[i] {
			case 't':
				i, vok = jsonScanLiteral(b, i, "true")
				t = true
			case 'f':
				i, vok = jsonScanLiteral(b, i, "false")
			default:
				i, vok = jsonSkipValue(b, i)
			}
			if vok {
				body.success = t
			}
		case bodyKeyErrors:
			var errs []string
			if b[i] == '[' {
				i, errs, vok = readBodyErrors(b, i)
			} else {
				i, vok = jsonSkipValue(b, i)
			}
			if vok {
				body.errors = errs
			}
		default:
			i, vok = jsonSkipValue(b, i)
		}
		if !vok {
			return body, true
		}

		// Separator.
		i = jsonSkipSpace(b, i)
		if i >= len(b) || b[i] != ',' {
			// '}' ends the object; anything else is a syntax error.
			return body, true
		}
		i = jsonSkipSpace(b, i+1)
	}
}

// bodyKey identifies a key parseBody looks for.
type bodyKey uint8

// The keys parseBody looks for, and bodyKeyOther for every other key.
const (
	bodyKeyOther bodyKey = iota
	bodyKeyStatusCode
	bodyKeyStatusMessage
	bodyKeySuccess
	bodyKeyErrors
)

// matchBodyKey tells which key raw, the bytes between a key's quotes, spells.
// esc reports whether raw holds a backslash and so needs unescaping first.
func matchBodyKey(raw []byte, esc bool) bodyKey {
	if esc {
		if len(raw) > maxEscapedKeyLen {
			return bodyKeyOther
		}
		// Decoding a key of at most maxEscapedKeyLen bytes fits in buf,
		// since each raw byte decodes to at most 3 bytes; no allocation.
		var buf [3 * maxEscapedKeyLen]byte
		raw = jsonAppendUnquoted(buf[:0], raw)
	}
	switch string(raw) {
	case "status_code":
		return bodyKeyStatusCode
	case "status_message":
		return bodyKeyStatusMessage
	case "success":
		return bodyKeySuccess
	case "errors":
		return bodyKeyErrors
	}
	return bodyKeyOther
}

// readBodyErrors reads the array that starts at b[i] == '['. It returns the index
// just past the array, its string elements (at most maxErrors of them; nil if
// none) and ok=false if the array is malformed or truncated.
func readBodyErrors(b []byte, i int) (next int, errs []string, ok bool) {
	i = jsonSkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil, true
	}
	for {
		if i >= len(b) {
			return i, nil, false
		}
		var vok bool
		if b[i] == '"' && len(errs) < maxErrors {
			var s string
			i, s, vok = readBodyString(b, i)
			errs = append(errs, s)
		} else {
			i, vok = jsonSkipValue(b, i)
		}
		if !vok {
			return i, nil, false
		}
		i = jsonSkipSpace(b, i)
		if i >= len(b) {
			return i, nil, false
		}
		switch b[i] {
		case ']':
			return i + 1, errs, true
		case ',':
			i = jsonSkipSpace(b, i+1)
		default:
			return i, nil, false
		}
	}
}

// readBodyString reads the string that starts at b[i] == '"'. It returns the index
// just past its closing quote, its unescaped value as valid UTF-8, and
// ok=false if it is malformed or truncated.
func readBodyString(b []byte, i int) (next int, s string, ok bool) {
	end, esc, ok := jsonScanString(b, i+1)
	if !ok {
		return end, "", false
	}
	raw := b[i+1 : end]
	if !esc && utf8.Valid(raw) {
		return end + 1, string(raw), true
	}
	// Short strings decode on the stack, so only the final string is
	// allocated; longer ones take a buffer too (which grows only if invalid
	// UTF-8, replaced by 3-byte U+FFFD, makes the result longer than raw).
	var buf [256]byte
	dst := buf[:0]
	if len(raw) > len(buf) {
		dst = make([]byte, 0, len(raw))
	}
	return end + 1, string(jsonAppendUnquoted(dst, raw)), true
}

// jsonScanString finds the end of the string whose contents start at b[i],
// just after its opening quote. It returns the index of the closing quote,
// whether the contents hold a backslash escape, and ok=false if an escape is
// malformed or the string is truncated, end then being where the scan
// stopped. It searches with bytes.IndexByte, remembering the next quote so
// that many escapes before a distant quote are not rescanned: linear time.
func jsonScanString(b []byte, i int) (end int, esc, ok bool) {
	q := -1 // index of the next quote at or after i, once known
	for {
		if q < i {
			n := bytes.IndexByte(b[i:], '"')
			if n < 0 {
				return len(b), esc, false
			}
			q = i + n
		}
		n := bytes.IndexByte(b[i:q], '\\')
		if n < 0 {
			return q, esc, true
		}
		i += n
		esc = true
		if i+1 >= len(b) {
			return i, esc, false
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if _, hok := jsonHex4(b, i+2); !hok {
				return i, esc, false
			}
			i += 6
		default:
			return i, esc, false
		}
	}
}

// jsonHex4 decodes the four hex digits at b[i:i+4]; ok is false if there are
// fewer than four bytes or one is not a hex digit.
func jsonHex4(b []byte, i int) (r rune, ok bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	for _, c := range b[i : i+4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// jsonAppendUnquoted appends to dst the contents of a JSON string, raw being the
// bytes between its quotes, unescaped, with each invalid UTF-8 byte and each
// lone surrogate replaced by U+FFFD. Raw control characters are kept. A
// malformed escape, which jsonScanString rules out, is copied as it is.
func jsonAppendUnquoted(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			switch raw[i+1] {
			case '"', '\\', '/':
				dst = append(dst, raw[i+1])
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, ok := jsonHex4(raw, i+2)
				if !ok {
					dst = append(dst, c)
					i++
					continue
				}
				i += 6
				if utf8.ValidRune(r) {
					dst = utf8.AppendRune(dst, r)
					continue
				}
				// r is a surrogate: combine it with a following low
				// surrogate, as encoding/json does, or replace it.
				if r < 0xDC00 && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, ok := jsonHex4(raw, i+2); ok && 0xDC00 <= r2 && r2 <= 0xDFFF {
						dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(r2-0xDC00))
						i += 6
						continue
					}
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
				continue
			default:
				dst = append(dst, c)
				i++
				continue
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

// jsonScanNumber scans the JSON number that starts at b[i]. It returns the index
// just past it and, if it is an integer in int32 range, its value with
// isInt=true. ok is false if the number is malformed or is not followed by a
// byte that may follow a value, including when it ends the input.
func jsonScanNumber(b []byte, i int) (next int, n int32, isInt, ok bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	if i >= len(b) || !jsonIsDigit(b[i]) {
		return i, 0, false, false
	}
	var v int64 // saturates just above 1<<31, enough to tell overflow
	if b[i] == '0' {
		i++
	} else {
		for ; i < len(b) && jsonIsDigit(b[i]); i++ {
			if v <= 1<<31 {
				v = v*10 + int64(b[i]-'0')
			}
		}
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		if i >= len(b) || !jsonIsDigit(b[i]) {
			return i, 0, false, false
		}
		for i < len(b) && jsonIsDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !jsonIsDigit(b[i]) {
			return i, 0, false, false
		}
		for i < len(b) && jsonIsDigit(b[i]) {
			i++
		}
	}
	if i >= len(b) || !jsonEndsValue(b[i]) {
		return i, 0, false, false
	}
	if neg {
		v = -v
	}
	if !isInt || v < math.MinInt32 || v > math.MaxInt32 {
		return i, 0, false, true
	}
	return i, int32(v), true, true
}

// jsonScanLiteral checks that lit (true, false or null) is at b[i] and followed by
// a byte that may follow a value. It returns the index just past lit.
func jsonScanLiteral(b []byte, i int, lit string) (next int, ok bool) {
	if len(b)-i <= len(lit) || string(b[i:i+len(lit)]) != lit || !jsonEndsValue(b[i+len(lit)]) {
		return i, false
	}
	return i + len(lit), true
}

// jsonSkipValue skips the JSON value that starts at b[i] and returns the index
// just past it, or ok=false if it is malformed or truncated. Arrays and
// objects are skipped iteratively with a depth counter, so any depth takes
// constant stack; inside them only strings and bracket counts are checked.
func jsonSkipValue(b []byte, i int) (next int, ok bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := jsonScanString(b, i+1)
		return end + 1, ok
	case c == '{' || c == '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			case '"':
				end, _, ok := jsonScanString(b, i+1)
				if !ok {
					return end, false
				}
				i = end
			}
			i++
		}
		return i, false
	case c == 't':
		return jsonScanLiteral(b, i, "true")
	case c == 'f':
		return jsonScanLiteral(b, i, "false")
	case c == 'n':
		return jsonScanLiteral(b, i, "null")
	case c == '-' || jsonIsDigit(c):
		next, _, _, ok := jsonScanNumber(b, i)
		return next, ok
	}
	return i, false
}

// jsonSkipSpace returns the index of the first byte at or after b[i] that is not
// JSON whitespace, or len(b).
func jsonSkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonEndsValue reports whether c may follow a complete JSON value.
func jsonEndsValue(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// jsonIsDigit reports whether c is an ASCII decimal digit.
func jsonIsDigit(c byte) bool { return '0' <= c && c <= '9' }
