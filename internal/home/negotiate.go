package home

import (
	"mime"
	"strconv"
	"strings"
)

// negotiate returns the one of offers (lower-case "type/subtype", the
// server's preferred first) that the Accept header values prefer, by RFC
// 9110, section 12.5.1: each offer weighs the q of the most specific media
// range that matches it, the highest q above zero wins, a tie goes to the
// earlier offer, and offers[0] is the answer when none is acceptable.
//
// Hand-written, as github.com/munnerz/goautoneg (in the module graph through
// Prometheus) takes q=0 for acceptable and ranks a specific type of a lower
// weight above a wildcard of a higher one.
func negotiate(accept []string, offers ...string) string {
	best, bestQ := offers[0], 0.0
	for _, offer := range offers {
		if q := weight(accept, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// weight returns the q of the most specific media range of accept that
// matches offer, 1 if accept is empty, or 0 if no range matches.
func weight(accept []string, offer string) float64 {
	if len(accept) == 0 {
		return 1
	}
	offerType, _, _ := strings.Cut(offer, "/")
	q, specificity := 0.0, -1
	for _, value := range accept {
		for element := range strings.SplitSeq(value, ",") {
			mediaRange, rangeQ, ok := parseRange(element)
			s := -1
			switch {
			case !ok:
			case mediaRange == offer:
				s = 2
			case mediaRange == offerType+"/*":
				s = 1
			case mediaRange == "*/*":
				s = 0
			}
			if s > specificity {
				q, specificity = rangeQ, s
			}
		}
	}
	return q
}

// parseRange returns the media range, lower-case, and the weight of one
// element of an Accept header, such as "text/html;level=1;q=0.8". It reports
// false for an element that is not "type/subtype" with a q from 0 to 1.
func parseRange(element string) (mediaRange string, q float64, ok bool) {
	mediaRange, params, err := mime.ParseMediaType(element)
	typ, sub, found := strings.Cut(mediaRange, "/")
	if err != nil || !found || typ == "*" && sub != "*" {
		return "", 0, false
	}
	q = 1
	if v, ok := params["q"]; ok {
		q, err = strconv.ParseFloat(v, 64)
		if err != nil || q < 0 || q > 1 {
			return "", 0, false
		}
	}
	return mediaRange, q, true
}
