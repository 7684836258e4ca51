package home

import (
	"strconv"
	"strings"
)

// negotiate returns the media type of offers (each "type/subtype", in the
// server's order of preference) that the Accept header values prefer, as
// RFC 9110, section 12.5.1, defines it: each offer gets the weight of the
// most specific media range that matches it, the highest weight above zero
// wins, and a tie goes to the earlier offer. With no Accept header, or one
// that accepts none of offers, it returns offers[0]: a server may ignore
// Accept rather than answer 406 (section 12.5.1 again).
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
	offerType, offerSub, _ := strings.Cut(offer, "/")
	q, specificity := 0.0, -1
	for _, value := range accept {
		for r := range strings.SplitSeq(value, ",") {
			mediaRange, rangeQ, ok := parseRange(r)
			if !ok {
				continue
			}
			typ, sub, _ := strings.Cut(mediaRange, "/")
			s := -1
			switch {
			case strings.EqualFold(typ, offerType) && strings.EqualFold(sub, offerSub):
				s = 2
			case strings.EqualFold(typ, offerType) && sub == "*":
				s = 1
			case typ == "*" && sub == "*":
				s = 0
			}
			if s > specificity {
				q, specificity = rangeQ, s
			}
		}
	}
	return q
}

// parseRange splits one element of an Accept header, such as
// "text/html;level=1;q=0.8", into its media range and weight. Media-type
// parameters other than q are ignored. It reports false for an element that
// is not "type/subtype", such as an empty one.
func parseRange(r string) (mediaRange string, q float64, ok bool) {
	mediaRange, params, _ := strings.Cut(r, ";")
	mediaRange = strings.TrimSpace(mediaRange)
	typ, sub, found := strings.Cut(mediaRange, "/")
	if !found || typ == "" || sub == "" || typ == "*" && sub != "*" {
		return "", 0, false
	}
	q = 1
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || v < 0 || v > 1 {
			return "", 0, false
		}
		q = v
	}
	return mediaRange, q, true
}
