package service

import "strings"

// paramVerbs are the words that, after a leading parameter name, make an
// entry of TMDB's "errors" a message about that parameter.
var paramVerbs = []string{" must ", " is ", " should ", " cannot "}

// paramOf returns the request parameter an entry of TMDB's "errors" names,
// or "" if it names none. TMDB's 422 messages start with the parameter:
// "page must be less than or equal to 500", "query must be provided". The
// rule is no more than that: a lowercase identifier (letters, digits, '_'
// and '.', starting with a letter) followed by one of paramVerbs. A message
// that starts otherwise ("Invalid id: ...", "You must provide ...") names
// none, rather than a guess.
func paramOf(msg string) string {
	n := 0
	for n < len(msg) {
		c := msg[n]
		if c >= 'a' && c <= 'z' || n > 0 && (c >= '0' && c <= '9' || c == '_' || c == '.') {
			n++
			continue
		}
		break
	}
	if n == 0 || msg[n-1] == '.' {
		return ""
	}
	for _, v := range paramVerbs {
		if strings.HasPrefix(msg[n:], v) {
			return msg[:n]
		}
	}
	return ""
}
