package service

import "strings"

// paramVerbs are the words that, after a leading parameter name, make an
// entry of TMDB's "errors" a message about that parameter.
var paramVerbs = []string{" must ", " is ", " should ", " cannot "}

// paramOf returns the request parameter an entry of TMDB's "errors" names,
// or "" if it names none: a lowercase identifier (letters, digits, '_' and
// '.', starting with a letter) followed by one of paramVerbs, as in "page
// must be less than or equal to 500". A message that starts otherwise
// ("Invalid id: ...", "You must provide ...") names none, rather than a guess.
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

// quotaNumbers reads the request count and the limit from TMDB's message of
// code 25, "Your request count (45) is over the allowed limit of (40).".
func quotaNumbers(msg string) (count, limit string, ok bool) {
	var nums [2]string
	n := 0
	for rest := msg; n < 2; {
		_, after, open := strings.Cut(rest, "(")
		num, tail, closed := strings.Cut(after, ")")
		if !open || !closed {
			break
		}
		if num != "" && strings.Trim(num, "0123456789") == "" {
			nums[n] = num
			n++
		}
		rest = tail
	}
	return nums[0], nums[1], n == 2
}
