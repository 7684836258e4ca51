package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Real TMDB error bodies, as TMDB sends them.
const (
	bodyInvalidKey = `{"success":false,"status_code":7,"status_message":"Invalid API key: You must be granted a valid key."}`
	bodyNotFound   = `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`
	bodyDeleted    = `{"success":true,"status_code":13,"status_message":"The item/record was deleted successfully."}`
	bodyRateLimit  = `{"status_code":25,"status_message":"Your request count (41) is over the allowed limit of 40.","success":false}`
	bodyPage       = `{"errors":["page must be less than or equal to 500"]}`
	bodyTwoErrors  = `{"errors":["query must be provided","page must be greater than 0"]}`
	bodyEscaped    = `{"success":false,"status_code":17,"status_message":"Session denied: the user didn\u2019t approve the request token."}`
	bodyHTML       = "<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n"
)

// bodyCases are parseBody's table tests; every input also seeds FuzzParseBody.
var bodyCases = []struct {
	name string
	in   string
	want tmdbBody
	ok   bool
}{
	// Real bodies of both shapes.
	{"invalid key", bodyInvalidKey, tmdbBody{statusCode: 7, hasCode: true, statusMessage: "Invalid API key: You must be granted a valid key."}, true},
	{"not found", bodyNotFound, tmdbBody{statusCode: 34, hasCode: true, statusMessage: "The resource you requested could not be found."}, true},
	{"deleted", bodyDeleted, tmdbBody{statusCode: 13, hasCode: true, statusMessage: "The item/record was deleted successfully."}, true},
	{"rate limit, other order", bodyRateLimit, tmdbBody{statusCode: 25, hasCode: true, statusMessage: "Your request count (41) is over the allowed limit of 40."}, true},
	{"errors shape", bodyPage, tmdbBody{errors: []string{"page must be less than or equal to 500"}}, true},
	{"two errors", bodyTwoErrors, tmdbBody{errors: []string{"query must be provided", "page must be greater than 0"}}, true},
	{"right single quote escape", bodyEscaped, tmdbBody{statusCode: 17, hasCode: true, statusMessage: "Session denied: the user didn\u2019t approve the request token."}, true},
	{"all fields", `{"status_message":"m","errors":["a","b"],"success":true,"status_code":1}`, tmdbBody{statusCode: 1, hasCode: true, statusMessage: "m", errors: []string{"a", "b"}}, true},
	{"whitespace everywhere", " \r\n\t{ \n\"status_code\" \t: \r 7 \n, \"success\"\n:\ntrue\t,\"errors\" : [ \"a\" , \"b\" ] ,\"status_message\"  :  \"m\"\n}\n ", tmdbBody{statusCode: 7, hasCode: true, statusMessage: "m", errors: []string{"a", "b"}}, true},

	// Not an object.
	{"empty", "", tmdbBody{}, false},
	{"blank", " \n\t\r ", tmdbBody{}, false},
	{"null", "null", tmdbBody{}, false},
	{"top-level array", `[{"status_code":7}]`, tmdbBody{}, false},
	{"empty array", `[]`, tmdbBody{}, false},
	{"string", `"status_code"`, tmdbBody{}, false},
	{"number", `7`, tmdbBody{}, false},
	{"html page", bodyHTML, tmdbBody{}, false},
	{"plain text", "Bad Gateway", tmdbBody{}, false},
	{"byte order mark", "\uFEFF" + bodyInvalidKey, tmdbBody{}, false},

	// Objects without our fields.
	{"lone brace", "{", tmdbBody{}, true},
	{"empty object", "{}", tmdbBody{}, true},
	{"empty object, spaced", " { } ", tmdbBody{}, true},
	{"unknown fields of every type", `{"a":{"b":[1,2,{"c":null}],"d":"}]"},"e":"x\"}","f":-1.5e+3,"g":true,"h":false,"i":null,"j":[],"k":{},"status_code":7}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"keys are case-sensitive", `{"Status_Code":7,"STATUS_MESSAGE":"m","Success":true,"Errors":["a"]}`, tmdbBody{}, true},
	{"near-miss keys", `{"status_code ":7,"status":"m","status_messages":"x","error":["a"]}`, tmdbBody{}, true},
	{"escaped keys", `{"status\u005fcode":7,"\u0073tatus_message":"m","succes\u0073":true,"\u0065\u0072\u0072\u006f\u0072\u0073":["a"]}`, tmdbBody{statusCode: 7, hasCode: true, statusMessage: "m", errors: []string{"a"}}, true},
	{"escaped near-miss key", `{"status\u005fcode\u0000":7}`, tmdbBody{}, true},

	// status_code.
	{"code zero", `{"status_code":0}`, tmdbBody{hasCode: true}, true},
	{"code minus zero", `{"status_code":-0}`, tmdbBody{hasCode: true}, true},
	{"code negative", `{"status_code":-12}`, tmdbBody{statusCode: -12, hasCode: true}, true},
	{"code max int32", `{"status_code":2147483647}`, tmdbBody{statusCode: 2147483647, hasCode: true}, true},
	{"code min int32", `{"status_code":-2147483648}`, tmdbBody{statusCode: -2147483648, hasCode: true}, true},
	{"code above int32", `{"status_code":2147483648,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code below int32", `{"status_code":-2147483649,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code huge", `{"status_code":99999999999999999999999999,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code fraction", `{"status_code":7.5,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code integral fraction", `{"status_code":7.0,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code exponent", `{"status_code":7e0,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code exponent signed", `{"status_code":70E-1,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code string", `{"status_code":"7","status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code null", `{"status_code":null,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code bool", `{"status_code":true,"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code object", `{"status_code":{"v":7},"status_message":"m"}`, tmdbBody{statusMessage: "m"}, true},
	{"code leading zero", `{"status_code":07,"status_message":"m"}`, tmdbBody{}, true},
	{"code plus sign", `{"status_code":+7,"status_message":"m"}`, tmdbBody{}, true},
	{"code lone minus", `{"status_code":-,"status_message":"m"}`, tmdbBody{}, true},
	{"code dangling dot", `{"status_code":7.,"status_message":"m"}`, tmdbBody{}, true},
	{"code dangling exponent", `{"status_code":7e,"status_message":"m"}`, tmdbBody{}, true},
	{"code followed by garbage", `{"status_code":7x,"status_message":"m"}`, tmdbBody{}, true},

	// success, an unknown key like any other.
	{"success true", `{"success":true}`, tmdbBody{}, true},
	{"success false", `{"success":false}`, tmdbBody{}, true},
	{"success string", `{"success":"true"}`, tmdbBody{}, true},
	{"success misspelt", `{"success":truth,"status_code":7}`, tmdbBody{}, true},

	// Duplicate keys: the last complete value wins.
	{"duplicate code", `{"status_code":7,"status_code":8}`, tmdbBody{statusCode: 8, hasCode: true}, true},
	{"duplicate code, wrong type", `{"status_code":7,"status_code":"8"}`, tmdbBody{}, true},
	{"duplicate message, null", `{"status_message":"a","status_message":null}`, tmdbBody{}, true},
	{"duplicate message", `{"status_message":"a","status_message":"b"}`, tmdbBody{statusMessage: "b"}, true},
	{"duplicate success", `{"success":true,"success":false}`, tmdbBody{}, true},
	{"duplicate errors", `{"errors":["a"],"errors":["b","c"]}`, tmdbBody{errors: []string{"b", "c"}}, true},
	{"duplicate errors, wrong type", `{"errors":["a"],"errors":"b"}`, tmdbBody{}, true},
	{"duplicate code, truncated", `{"status_code":7,"status_code":8`, tmdbBody{statusCode: 7, hasCode: true}, true},

	// Strings.
	{"simple escapes", `{"status_message":"q\" b\\ s\/ \b\f\n\r\t."}`, tmdbBody{statusMessage: "q\" b\\ s/ \b\f\n\r\t."}, true},
	{"unicode escapes", `{"status_message":"caf\u00e9 caf\u00E9 \u0000 \u20ac"}`, tmdbBody{statusMessage: "café café \x00 €"}, true},
	{"surrogate pair", `{"status_message":"\ud83c\udfac!"}`, tmdbBody{statusMessage: "🎬!"}, true},
	{"surrogate pair, upper case", `{"status_message":"\uD83C\uDFAC"}`, tmdbBody{statusMessage: "🎬"}, true},
	{"lone high surrogate", `{"status_message":"a\ud83cb"}`, tmdbBody{statusMessage: "a\uFFFDb"}, true},
	{"lone high surrogate at end", `{"status_message":"a\ud83c"}`, tmdbBody{statusMessage: "a\uFFFD"}, true},
	{"lone low surrogate", `{"status_message":"\udfaca"}`, tmdbBody{statusMessage: "\uFFFDa"}, true},
	{"high surrogate then non-surrogate", `{"status_message":"\ud83c\u0041"}`, tmdbBody{statusMessage: "\uFFFDA"}, true},
	{"high surrogate then pair", `{"status_message":"\ud83c\ud83c\udfac"}`, tmdbBody{statusMessage: "\uFFFD🎬"}, true},
	{"high surrogate then other escape", `{"status_message":"\ud83c\n"}`, tmdbBody{statusMessage: "\uFFFD\n"}, true},
	{"raw utf-8", `{"status_message":"didn’t 🎬"}`, tmdbBody{statusMessage: "didn’t 🎬"}, true},
	{"invalid utf-8 byte", "{\"status_message\":\"a\xffb\"}", tmdbBody{statusMessage: "a\uFFFDb"}, true},
	{"truncated utf-8 sequence", "{\"status_message\":\"a\xe2\x80\"}", tmdbBody{statusMessage: "a\uFFFD\uFFFD"}, true},
	{"utf-8 encoded surrogate", "{\"status_message\":\"\xed\xa0\x80\"}", tmdbBody{statusMessage: "\uFFFD\uFFFD\uFFFD"}, true},
	{"invalid utf-8 and escape", "{\"status_message\":\"\xc3\\n\xc3\xa9\"}", tmdbBody{statusMessage: "\uFFFD\né"}, true},
	{"invalid utf-8 in errors", "{\"errors\":[\"\xff\"]}", tmdbBody{errors: []string{"\uFFFD"}}, true},
	{"raw control character", "{\"status_code\":7,\"status_message\":\"a\tb\"}", tmdbBody{statusCode: 7, hasCode: true}, true},
	{"invalid escape", `{"status_code":7,"status_message":"a\xb","success":true}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"short unicode escape", `{"status_code":7,"status_message":"\u12","success":true}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"bad hex in unicode escape", `{"status_code":7,"status_message":"\u12g4"}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"invalid escape in unknown value", `{"status_code":7,"x":"\q","success":true}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"empty message", `{"status_message":""}`, tmdbBody{}, true},
	{"long escaped message", `{"status_message":"` + strings.Repeat(`\u2019`, 300) + `"}`, tmdbBody{statusMessage: strings.Repeat("\u2019", 300)}, true},
	{"long message with invalid utf-8", "{\"status_message\":\"" + strings.Repeat("\xff", 300) + "\"}", tmdbBody{statusMessage: strings.Repeat("\uFFFD", 300)}, true},

	// errors.
	{"errors empty", `{"errors":[]}`, tmdbBody{}, true},
	{"errors mixed", `{"errors":["a",1,null,true,{"x":"y"},["z"],"b",-2.5e3]}`, tmdbBody{errors: []string{"a", "b"}}, true},
	{"errors not strings", `{"errors":[1,2]}`, tmdbBody{}, true},
	{"errors not an array", `{"errors":"a","status_code":7}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"errors object", `{"errors":{"page":"too big"},"status_code":7}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"errors escaped", `{"errors":["don\u2019t","\ud83c\udfac"]}`, tmdbBody{errors: []string{"don’t", "🎬"}}, true},
	{"errors capped", `{"errors":[` + bodyStrings(100, `"e%d"`) + `],"status_code":7}`, tmdbBody{statusCode: 7, hasCode: true, errors: bodyNames(64, "e%d")}, true},
	{"errors cap counts strings", `{"errors":[` + bodyStrings(70, `%d,"e%d"`) + `]}`, tmdbBody{errors: bodyNames(64, "e%d")}, true},
	{"errors trailing comma", `{"status_code":7,"errors":["a",]}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"errors missing comma", `{"status_code":7,"errors":["a" "b"]}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"errors truncated", `{"status_code":7,"errors":["a","b"`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"errors wrong bracket", `{"status_code":7,"errors":["a"}`, tmdbBody{statusCode: 7, hasCode: true}, true},

	// Truncated or malformed JSON: fields complete before the error are kept.
	{"truncated in key", `{"success":false,"status_code":7,"status_mes`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated in message", `{"status_code":7,"status_message":"Invalid API`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated after number", `{"status_code":7`, tmdbBody{}, true},
	{"truncated after number and space", `{"status_code":7 `, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated after literal", `{"status_code":7,"success":true`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated in literal", `{"status_code":7,"success":tr`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated after colon", `{"status_code":`, tmdbBody{}, true},
	{"truncated in escape", `{"status_code":7,"status_message":"a\`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated in unicode escape", `{"status_code":7,"status_message":"a\u20`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"truncated in unknown value", `{"status_code":7,"x":[{"y":"}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"double comma", `{"status_code":7,,"success":true}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"trailing comma", `{"status_code":7,}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"missing colon", `{"status_code" 7,"success":true}`, tmdbBody{}, true},
	{"missing comma", `{"status_code":7 "success":true}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"single quotes", `{'status_code':7}`, tmdbBody{}, true},
	{"unquoted key", `{status_code:7}`, tmdbBody{}, true},
	{"leading comma", `{,"status_code":7}`, tmdbBody{}, true},
	{"garbage after object", `{"status_code":7}{"status_code":8}<html>`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"object then more fields", `{"status_code":7}, "success":true}`, tmdbBody{statusCode: 7, hasCode: true}, true},
	{"mismatched brackets in unknown value", `{"x":[1 2},"status_code":7}`, tmdbBody{}, true},
	{"bad literal in unknown value", `{"x":nul,"status_code":7}`, tmdbBody{}, true},
	{"bad number in unknown value", `{"x":1.,"status_code":7}`, tmdbBody{}, true},
	{"bare word value", `{"x":abc,"status_code":7}`, tmdbBody{}, true},
}

// bodyStrings joins n formatted elements with commas; format takes the
// element's index once per verb.
func bodyStrings(n int, format string) string {
	parts := make([]string, n)
	for i := range parts {
		args := make([]any, strings.Count(format, "%"))
		for j := range args {
			args[j] = i
		}
		parts[i] = fmt.Sprintf(format, args...)
	}
	return strings.Join(parts, ",")
}

// bodyNames returns the first n formatted names, format taking the index.
func bodyNames(n int, format string) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf(format, i)
	}
	return names
}

// bodyEqual reports whether two parse results are the same, a nil and an
// empty errors slice being the same.
func bodyEqual(a, b tmdbBody) bool {
	return a.statusCode == b.statusCode && a.hasCode == b.hasCode &&
		a.statusMessage == b.statusMessage &&
		slices.Equal(a.errors, b.errors)
}

func TestParseBody(t *testing.T) {
	for _, tc := range bodyCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseBody([]byte(tc.in))
			if ok != tc.ok || !bodyEqual(got, tc.want) {
				t.Errorf("parseBody(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
			checkBodyInvariants(t, []byte(tc.in), got, ok)
			checkBodyAgainstJSON(t, []byte(tc.in), got, ok)
		})
	}
}

// TestParseBodyTruncated cuts real bodies at every byte offset. A field must
// appear exactly once its value is complete: a string or array at its closing
// quote or bracket, a number or literal only once the byte after it is read.
func TestParseBodyTruncated(t *testing.T) {
	type field struct {
		token  string // `"key":value` as it appears in the body
		scalar bool   // whether the value needs the byte after it to count
		set    func(*tmdbBody)
	}
	code := func(n int32) func(*tmdbBody) {
		return func(b *tmdbBody) { b.statusCode, b.hasCode = n, true }
	}
	msg := func(s string) func(*tmdbBody) { return func(b *tmdbBody) { b.statusMessage = s } }
	tests := []struct {
		body   string
		fields []field
	}{
		{bodyInvalidKey, []field{
			{`"success":false`, true, func(*tmdbBody) {}},
			{`"status_code":7`, true, code(7)},
			{`"status_message":"Invalid API key: You must be granted a valid key."`, false, msg("Invalid API key: You must be granted a valid key.")},
		}},
		{bodyDeleted, []field{
			{`"success":true`, true, func(*tmdbBody) {}},
			{`"status_code":13`, true, code(13)},
			{`"status_message":"The item/record was deleted successfully."`, false, msg("The item/record was deleted successfully.")},
		}},
		{bodyRateLimit, []field{
			{`"status_code":25`, true, code(25)},
			{`"status_message":"Your request count (41) is over the allowed limit of 40."`, false, msg("Your request count (41) is over the allowed limit of 40.")},
			{`"success":false`, true, func(*tmdbBody) {}},
		}},
		{bodyEscaped, []field{
			{`"success":false`, true, func(*tmdbBody) {}},
			{`"status_code":17`, true, code(17)},
			{`"status_message":"Session denied: the user didn\u2019t approve the request token."`, false, msg("Session denied: the user didn\u2019t approve the request token.")},
		}},
		{bodyTwoErrors, []field{
			{`"errors":["query must be provided","page must be greater than 0"]`, false, func(b *tmdbBody) {
				b.errors = []string{"query must be provided", "page must be greater than 0"}
			}},
		}},
	}
	for _, tc := range tests {
		for n := 0; n <= len(tc.body); n++ {
			in := tc.body[:n]
			var want tmdbBody
			for _, f := range tc.fields {
				at := strings.Index(tc.body, f.token)
				if at < 0 {
					t.Fatalf("%q not in %q", f.token, tc.body)
				}
				complete := at + len(f.token)
				if f.scalar {
					complete++
				}
				if n >= complete {
					f.set(&want)
				}
			}
			got, ok := parseBody([]byte(in))
			if !ok && n > 0 || !bodyEqual(got, want) {
				t.Errorf("parseBody(%q) = %+v, %v; want %+v, %v", in, got, ok, want, n > 0)
			}
			checkBodyInvariants(t, []byte(in), got, ok)
		}
	}
}

// jsontextMaxDepth is the nesting depth past which jsontext, and so
// parseBody, stops with a syntax error.
const jsontextMaxDepth = 10_000

// TestParseBodyDeepNesting nests values far deeper than any recursive parser
// could go within the stack limit it sets. Past jsontextMaxDepth the parse
// stops, keeping the fields before the deep value; within it, all is read.
func TestParseBodyDeepNesting(t *testing.T) {
	const depth = 1 << 20
	// A recursive parser would need well over 1 MiB of stack for this depth
	// and crash the test binary; an iterative one needs a few hundred bytes.
	defer debug.SetMaxStack(debug.SetMaxStack(1 << 20))
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	const shallow = jsontextMaxDepth / 2
	tests := []struct {
		name string
		in   string
		want tmdbBody
		ok   bool
	}{
		{"arrays", `{"status_code":7,"x":` + deep("[", "]", depth) + `,"status_message":"m"}`, tmdbBody{statusCode: 7, hasCode: true}, true},
		{"objects", `{"status_code":7,"x":` + deep(`{"a":`, "}", depth) + `,"status_message":"m"}`, tmdbBody{statusCode: 7, hasCode: true}, true},
		{"unclosed", `{"status_code":7,"x":` + strings.Repeat("[", depth), tmdbBody{statusCode: 7, hasCode: true}, true},
		{"as a known field", `{"status_code":7,"status_message":"m","status_message":` + deep("[", "]", depth) + `}`, tmdbBody{statusCode: 7, hasCode: true, statusMessage: "m"}, true},
		{"in errors", `{"status_code":7,"errors":["a",` + deep("[", "]", depth) + `,"b"]}`, tmdbBody{statusCode: 7, hasCode: true}, true},
		{"top-level array", strings.Repeat("[", depth), tmdbBody{}, false},
		{"arrays just past the limit", `{"status_code":7,"x":` + deep("[", "]", jsontextMaxDepth) + `,"status_message":"m"}`, tmdbBody{statusCode: 7, hasCode: true}, true},
		{"arrays within the limit", `{"x":` + deep("[", "]", shallow) + `,"status_code":7}`, tmdbBody{statusCode: 7, hasCode: true}, true},
		{"objects within the limit", `{"x":` + deep(`{"a":`, "}", shallow) + `,"status_code":7}`, tmdbBody{statusCode: 7, hasCode: true}, true},
		{"in errors within the limit", `{"errors":["a",` + deep("[", "]", shallow) + `,"b"]}`, tmdbBody{errors: []string{"a", "b"}}, true},
	}
	for _, tc := range tests {
		got, ok := parseBody([]byte(tc.in))
		if ok != tc.ok || !bodyEqual(got, tc.want) {
			t.Errorf("%s: parseBody(%d bytes) = %+v, %v; want %+v, %v", tc.name, len(tc.in), got, ok, tc.want, tc.ok)
		}
	}
}

// TestParseBodyLarge parses a body of nearly maxBodyRead bytes, with a long
// message, long unknown values and a long errors array, and checks it against
// encoding/json.
func TestParseBodyLarge(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"padding":"` + strings.Repeat("a", 8<<10) + `",`)
	sb.WriteString(`"list":[` + strings.Repeat(`1,{"k":["v"]},`, 1000) + `0],`)
	sb.WriteString(`"quotes":"` + strings.Repeat(`\n\"`, 2500) + `",`)
	sb.WriteString(`"status_code":7,`)
	msg := strings.Repeat("didn\u2019t ", 1000)
	sb.WriteString(`"status_message":"` + strings.ReplaceAll(msg, "\u2019", `\u2019`) + `",`)
	sb.WriteString(`"errors":[` + bodyStrings(1000, `"e%d"`) + `]}`)
	in := []byte(sb.String())
	if len(in) < maxBodyRead*3/4 || len(in) > maxBodyRead {
		t.Fatalf("body is %d bytes; want nearly %d", len(in), maxBodyRead)
	}
	got, ok := parseBody(in)
	want := tmdbBody{statusCode: 7, hasCode: true, statusMessage: msg, errors: bodyNames(64, "e%d")}
	if !ok || !bodyEqual(got, want) {
		t.Errorf("parseBody(%d bytes) = code %d/%v, message %d bytes, %d errors, ok %v; want code 7, message %d bytes, 64 errors",
			len(in), got.statusCode, got.hasCode, len(got.statusMessage), len(got.errors), ok, len(msg))
	}
	checkBodyInvariants(t, in, got, ok)
	checkBodyAgainstJSON(t, in, got, ok)
}

// TestParseBodyBound checks that parseBody reads a body longer than
// maxBodyRead as if it had been cut after maxBodyRead bytes.
func TestParseBodyBound(t *testing.T) {
	// upTo returns `{"status_code":7,"x":"aaa…",` + field, padded so that
	// field ends at byte end of the body.
	upTo := func(end int, field string) string {
		head := `{"status_code":7,"x":"`
		return head + strings.Repeat("a", end-len(head)-len(`",`)-len(field)) + `",` + field
	}
	code7, code8 := tmdbBody{statusCode: 7, hasCode: true}, tmdbBody{statusCode: 8, hasCode: true}
	tests := []struct {
		name string
		in   string
		want tmdbBody
		ok   bool
	}{
		{"string ends at the bound", upTo(maxBodyRead, `"status_message":"m"`) + "}", tmdbBody{statusCode: 7, hasCode: true, statusMessage: "m"}, true},
		{"string ends past the bound", upTo(maxBodyRead+1, `"status_message":"m"`) + "}", code7, true},
		{"number followed at the bound", upTo(maxBodyRead, `"status_code":8,`) + "}", code8, true},
		{"number ends at the bound", upTo(maxBodyRead, `"status_code":8`) + "}", code7, true},
		{"far past the bound", upTo(4<<20, `"status_message":"m"`) + "}", code7, true},
		{"whitespace up to the bound", strings.Repeat(" ", maxBodyRead) + bodyInvalidKey, tmdbBody{}, false},
	}
	for _, tc := range tests {
		got, ok := parseBody([]byte(tc.in))
		if ok != tc.ok || !bodyEqual(got, tc.want) {
			t.Errorf("%s: parseBody(%d bytes) = %+v, %v; want %+v, %v", tc.name, len(tc.in), got, ok, tc.want, tc.ok)
		}
		checkBodyInvariants(t, []byte(tc.in), got, ok)
	}
}

// TestParseBodyAllocs checks that a body that is not a JSON object, such as
// a proxy's HTML page, is turned away without allocating.
func TestParseBodyAllocs(t *testing.T) {
	for _, in := range []string{"", bodyHTML, "Bad Gateway", "[]"} {
		b := []byte(in)
		if n := testing.AllocsPerRun(100, func() { parseBody(b) }); n != 0 {
			t.Errorf("parseBody(%q) does %v allocations; want 0", in, n)
		}
	}
}

// TestParseBodyAllocsKept checks that an object costs one allocation per
// string kept (and one for the errors slice), whatever it skips: escaped and
// long keys, nesting and numbers cost nothing, the decoder being reused.
func TestParseBodyAllocsKept(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector drops pooled values at random")
	}
	tests := []struct {
		in   string
		want float64
	}{
		{bodyNotFound, 1},
		{bodyPage, 2},
		{`{"status\u005fcode":34,"` + strings.Repeat("k", 100) + `":[{"a":[1,"s",true,null]}],"x":"\u2019"}`, 0},
	}
	for _, tc := range tests {
		b := []byte(tc.in)
		if n := testing.AllocsPerRun(100, func() { parseBody(b) }); n != tc.want {
			t.Errorf("parseBody(%q) does %v allocations; want %v", tc.in, n, tc.want)
		}
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	return ok && slices.Contains(info.Settings, debug.BuildSetting{Key: "-race", Value: "true"})
}

// TestParseBodyRandomJSON checks parseBody against encoding/json on random
// valid objects, which fuzzing seldom produces: duplicate and escaped keys,
// values of every type, escapes, surrogates, invalid UTF-8 and whitespace.
func TestParseBodyRandomJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 20_000
	if race {
		n = 5_000 // the race detector makes encoding/json ten times slower
	}
	for range n {
		g := bodyGen{r: r}
		g.object(0)
		in := g.b.Bytes()
		if !json.Valid(in) {
			t.Fatalf("generated invalid JSON %q", in)
		}
		got, ok := parseBody(in)
		checkBodyInvariants(t, in, got, ok)
		checkBodyAgainstJSON(t, in, got, ok)
	}
}

// bodyGen writes a random JSON object for TestParseBodyRandomJSON.
type bodyGen struct {
	r *rand.Rand
	b bytes.Buffer
}

// space writes random JSON whitespace, usually none.
func (g *bodyGen) space() {
	for g.r.IntN(3) == 0 {
		g.b.WriteByte(" \t\r\n"[g.r.IntN(4)])
	}
}

// object writes an object whose keys favour parseBody's.
func (g *bodyGen) object(depth int) {
	keys := []string{"status_code", "status_message", "success", "errors", "other", "Status_Code", "status_code ", ""}
	g.b.WriteByte('{')
	g.space()
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.b.WriteByte(',')
			g.space()
		}
		g.str(keys[g.r.IntN(len(keys))])
		g.space()
		g.b.WriteByte(':')
		g.space()
		g.value(depth + 1)
		g.space()
	}
	g.b.WriteByte('}')
}

// value writes a value of a random type.
func (g *bodyGen) value(depth int) {
	switch n := g.r.IntN(10); {
	case n == 0 && depth < 4:
		g.object(depth)
	case n == 1 && depth < 4:
		g.b.WriteByte('[')
		g.space()
		for i := range g.r.IntN(5) {
			if i > 0 {
				g.b.WriteByte(',')
				g.space()
			}
			g.value(depth + 1)
			g.space()
		}
		g.b.WriteByte(']')
	case n <= 4:
		nums := []string{"0", "-0", "7", "-7", "2147483647", "2147483648", "-2147483648", "-2147483649",
			"99999999999999999999", "7.0", "7.5", "7e0", "7E+1", "-1.5e-3", "0.0"}
		if g.r.IntN(2) == 0 {
			g.b.WriteString(nums[g.r.IntN(len(nums))])
		} else {
			fmt.Fprint(&g.b, g.r.Int64N(1<<34)-1<<33)
		}
	case n <= 7:
		var s []byte
		for range g.r.IntN(8) {
			s = utf8.AppendRune(s, []rune{'a', '"', '\\', '/', '\n', 0, 0x1f, 0x7f, 'é', '\u2019', 0xFFFD, 0x1F3AC}[g.r.IntN(12)])
		}
		g.str(string(s))
	default:
		g.b.WriteString([]string{"true", "false", "null"}[g.r.IntN(3)])
	}
}

// str writes s as a JSON string, escaping each rune or not at random, and now
// and then adds a lone surrogate escape or an invalid UTF-8 byte.
func (g *bodyGen) str(s string) {
	g.b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\' || c < 0x20 || g.r.IntN(3) == 0:
			if c >= 0x10000 {
				fmt.Fprintf(&g.b, `\u%04x\u%04X`, 0xD800+(c-0x10000)>>10, 0xDC00+(c-0x10000)&0x3FF)
			} else if short, ok := map[rune]string{'"': `\"`, '\\': `\\`, '/': `\/`, '\n': `\n`, '\t': `\t`}[c]; ok && g.r.IntN(2) == 0 {
				g.b.WriteString(short)
			} else {
				fmt.Fprintf(&g.b, `\u%04x`, c)
			}
		default:
			g.b.WriteRune(c)
		}
		switch g.r.IntN(12) {
		case 0:
			fmt.Fprintf(&g.b, `\u%04x`, 0xD800+g.r.IntN(0x800))
		case 1:
			g.b.WriteByte([]byte{0x80, 0xbf, 0xc3, 0xe2, 0xed, 0xf0, 0xff}[g.r.IntN(7)])
		}
	}
	g.b.WriteByte('"')
}

// checkBodyInvariants checks what must hold for every input: valid UTF-8
// strings, at most maxErrors errors, ok exactly when the input's first
// maxBodyRead bytes start with an object, and a zero body when not ok.
func checkBodyInvariants(t *testing.T, in []byte, got tmdbBody, ok bool) {
	t.Helper()
	trimmed := bytes.TrimLeft(in[:min(len(in), maxBodyRead)], " \t\r\n")
	if wantOK := len(trimmed) > 0 && trimmed[0] == '{'; ok != wantOK {
		t.Errorf("parseBody(%q) ok = %v; want %v", in, ok, wantOK)
	}
	if !ok && !bodyEqual(got, tmdbBody{}) {
		t.Errorf("parseBody(%q) = %+v, false; want a zero body", in, got)
	}
	if !got.hasCode && got.statusCode != 0 {
		t.Errorf("parseBody(%q) = %+v; statusCode set without hasCode", in, got)
	}
	if !utf8.ValidString(got.statusMessage) {
		t.Errorf("parseBody(%q) statusMessage %q is not valid UTF-8", in, got.statusMessage)
	}
	if len(got.errors) > maxErrors {
		t.Errorf("parseBody(%q) has %d errors; want at most %d", in, len(got.errors), maxErrors)
	}
	for _, e := range got.errors {
		if !utf8.ValidString(e) {
			t.Errorf("parseBody(%q) error %q is not valid UTF-8", in, e)
		}
	}
}

// checkBodyAgainstJSON checks that, when encoding/json reads in as an object,
// parseBody agrees with it on every field. It does not check inputs longer
// than maxBodyRead or with more brackets than jsontextMaxDepth, which
// parseBody reads only in part.
func checkBodyAgainstJSON(t *testing.T, in []byte, got tmdbBody, ok bool) {
	t.Helper()
	if len(in) > maxBodyRead || bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) > jsontextMaxDepth {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(in, &m); err != nil || m == nil {
		return
	}
	var want tmdbBody
	if raw, found := m["status_code"]; found && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &want.statusCode); err == nil {
			want.hasCode = true
		} else {
			want.statusCode = 0
		}
	}
	if raw, found := m["status_message"]; found && raw[0] == '"' {
		if err := json.Unmarshal(raw, &want.statusMessage); err != nil {
			t.Fatalf("json.Unmarshal(%q) into a string: %v", raw, err)
		}
	}
	if raw, found := m["errors"]; found && raw[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			t.Fatalf("json.Unmarshal(%q) into []json.RawMessage: %v", raw, err)
		}
		for _, e := range elems {
			if e[0] != '"' || len(want.errors) == maxErrors {
				continue
			}
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				t.Fatalf("json.Unmarshal(%q) into a string: %v", e, err)
			}
			want.errors = append(want.errors, s)
		}
	}
	if !ok || !bodyEqual(got, want) {
		t.Errorf("parseBody(%q) = %+v, %v; encoding/json reads %+v, true", in, got, ok, want)
	}
}

// FuzzParseBody checks that parseBody never panics, keeps its invariants, and
// agrees with encoding/json whenever encoding/json reads the input as an
// object.
func FuzzParseBody(f *testing.F) {
	for _, tc := range bodyCases {
		f.Add([]byte(tc.in))
	}
	for _, s := range []string{bodyInvalidKey, bodyPage, bodyEscaped, bodyTwoErrors} {
		for n := 0; n < len(s); n += 7 {
			f.Add([]byte(s[:n]))
		}
	}
	f.Add([]byte(`{"x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `,"status_code":7}`))
	f.Add([]byte(`{"x":` + strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000) + `,"status_code":7}`))
	f.Add([]byte(`{"status_code":7,"x":` + strings.Repeat("[", jsontextMaxDepth) + strings.Repeat("]", jsontextMaxDepth) + `}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := parseBody(in)
		checkBodyInvariants(t, in, got, ok)
		checkBodyAgainstJSON(t, in, got, ok)
	})
}

func BenchmarkParseBody(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"typical", bodyInvalidKey},
		{"escaped", bodyEscaped},
		{"errors", bodyPage},
		{"html", bodyHTML},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				parseBody(in)
			}
		})
	}
}

// adversarialBody builds a body of about 8n bytes meant to trip a careless
// scanner: long runs of escapes before a distant quote, in a skipped value
// and in the message, escaped keys, deep nesting and a long errors array.
func adversarialBody(n int) []byte {
	return []byte(`{"x":"` + strings.Repeat(`\n`, n) + `",` +
		`"status_message":"` + strings.Repeat(`\u2019`, n/3) + `",` +
		strings.Repeat(`"status\u005fcod\u0065":1,`, n/24) +
		`"y":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,` +
		`"errors":[` + strings.Repeat(`"\t",`, n/4) + `""]}`)
}

// BenchmarkParseBodyAdversarial measures hostile bodies: at n = 7 KiB the
// body (58 KiB) is read whole; the larger ones cost no more, being read only
// up to maxBodyRead.
func BenchmarkParseBodyAdversarial(b *testing.B) {
	for _, n := range []int{7 << 10, 64 << 10, 1 << 20} {
		in := adversarialBody(n)
		b.Run(strconv.Itoa(n>>10)+"KiB", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				parseBody(in)
			}
		})
	}
}
