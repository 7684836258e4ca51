package home

import (
	"mime"
	"slices"
	"strconv"
	"strings"
)

// negotiate returns the one of offers (lower-case "type/subtype", the
// default first) that the Accept values prefer (RFC 9110, 12.5.1): each
// weighs the q of the most specific range matching it, the highest q above 0
// wins, a tie goes to the earlier offer. Hand-written, as goautoneg (in the
// module graph) ranks q before specificity and takes q=0 as acceptable.
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
	matching := []string{"*/*", offerType + "/*", offer} // Least specific first.
	q, specificity := 0.0, -1
	for _, value := range accept {
		for element := range strings.SplitSeq(value, ",") {
			mediaRange, rangeQ, ok := parseRange(element)
			if s := slices.Index(matching, mediaRange); ok && s > specificity {
				q, specificity = rangeQ, s
			}
		}
	}
	return q
}

// parseRange returns the lower-case media range and q of an Accept element,
// such as "text/html;level=1;q=0.8", or false if it does not parse.
func parseRange(element string) (mediaRange string, q float64, ok bool) {
	mediaRange, params, err := mime.ParseMediaType(element)
	if err != nil {
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
