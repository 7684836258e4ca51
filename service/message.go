package service

import (
	"regexp"
	"slices"
	"strings"
)

// paramVerbs are the words that, after a parameter's name, make an error about it.
var paramVerbs = []string{"must", "is", "should", "cannot"}

// paramName matches a lowercase identifier that does not end with '.'.
var paramName = regexp.MustCompile(`^[a-z]([a-z0-9_.]*[a-z0-9_])?$`)

// paramOf returns the parameter an entry of TMDB's "errors" starts with, a lowercase identifier
// followed by a paramVerb ("page must be less than or equal to 500"), or "" rather than a guess.
func paramOf(msg string) string {
	name, rest, _ := strings.Cut(msg, " ")
	verb, _, ok := strings.Cut(rest, " ")
	if ok && slices.Contains(paramVerbs, verb) && paramName.MatchString(name) {
		return name
	}
	return ""
}

// quotaNumbers reads the numbers in "Your request count (45) is over the allowed limit of (40).".
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
