package gateway

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// CacheControl is the Cache-Control of the answers with an ETag, Lookup's,
// ListStatuses' and the pages': the table is fixed for a build.
const CacheControl = "max-age=300"

// ErrorCacheControl is the Cache-Control of every error: an error answers
// one request, not a resource.
const ErrorCacheControl = "no-store"

// Header values set on every answer, allocated once.
var (
	nosniff         = []string{"nosniff"}
	cacheControl    = []string{CacheControl}
	errCacheControl = []string{ErrorCacheControl}
)

// front runs before mux: it sets nosniff, wraps w in an answerWriter,
// serves HEAD as GET (the server drops the body), takes out a Content-Type
// grpc-gateway would log as unparsable, and reads a POST's body whole, up
// to limit bytes, so that a longer one is 413, not a decoding's 400.
func front(mux *runtime.ServeMux, m runtime.Marshaler, limit int64) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header()["X-Content-Type-Options"] = nosniff
		w := &answerWriter{ResponseWriter: rw}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.ifNoneMatch = r.Header["If-None-Match"]
		}
		if r.Method == http.MethodHead {
			r = r.WithContext(r.Context())
			r.Method = http.MethodGet
		}
		ctype := r.Header.Get("Content-Type")
		if !parsable(r.Header["Content-Type"]) {
			r = r.WithContext(r.Context())
			r.Header = r.Header.Clone()
			r.Header.Del("Content-Type")
		}
		if r.Method != http.MethodPost {
			mux.ServeHTTP(w, r)
			return
		}
		var body []byte
		var err error
		if r.ContentLength > limit {
			err = &http.MaxBytesError{Limit: limit}
		} else if r.ContentLength != 0 { // Short enough, or unknown (-1).
			body, err = io.ReadAll(http.MaxBytesReader(rw, r.Body, limit))
		}
		if err != nil {
			runtime.HTTPError(r.Context(), mux, m, w, r, readError(err, limit))
			return
		}
		r.Body = newRequestBody(body, ctype)
		mux.ServeHTTP(w, r)
	})
}

// parsable reports whether mime.ParseMediaType parses every value.
func parsable(values []string) bool {
	for _, v := range values {
		if v == "application/json" {
			continue
		}
		if _, _, err := mime.ParseMediaType(v); err != nil {
			return false
		}
	}
	return true
}

// answerWriter answers a GET whose If-None-Match matches the ETag of its
// 200 with 304 (RFC 9110, section 13.1.2), and keeps write errors, a client
// gone, from grpc-gateway, which would log each one.
type answerWriter struct {
	http.ResponseWriter
	ifNoneMatch []string // nil: not a conditional GET.
	code        int      // The status written, or 0.
}

func (a *answerWriter) WriteHeader(code int) {
	if a.code != 0 {
		return
	}
	h := a.Header()
	if code == http.StatusOK && a.ifNoneMatch != nil && noneMatch(a.ifNoneMatch, h.Get("Etag")) {
		// The 200's validator and cache headers, none of its content.
		code = http.StatusNotModified
		h.Del("Content-Type")
		h.Del("Content-Length")
	}
	a.code = code
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if a.code != http.StatusNotModified {
		_, _ = a.ResponseWriter.Write(p)
	}
	return len(p), nil
}

// Unwrap returns the ResponseWriter a wraps, for http.ResponseController.
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// noneMatch reports whether the If-None-Match values hold "*" or a tag
// weakly equal to etag. Hand-written, as net/http's parser is not exported;
// splitting at commas is exact for our tags, which hold none.
func noneMatch(values []string, etag string) bool {
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || etag != "" && tag == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
	}
	return false
}
