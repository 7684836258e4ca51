package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/tmdbstatus/tmdbstatus/service"
)

// CacheControl is the Cache-Control of the answers that carry an ETag:
// those of Lookup and ListStatuses, and the pages (WithPage). The table
// is fixed for a build, so a cache may keep an answer five minutes, and
// then revalidate it with If-None-Match for a 304 of no body: a new build
// reaches clients within five minutes of its rollout.
const CacheControl = "max-age=300"

// ErrorCacheControl is the Cache-Control of every error. An error answers
// one request (its body, its query, the server's limits and state at that
// moment), not a resource: no cache may keep it, not even the 404 of a
// code the table does not have, which a later build may define. Without
// it, RFC 9111 lets a cache keep a 404, 405 or 501 heuristically.
const ErrorCacheControl = "no-store"

// Header values set on every answer, allocated once.
var (
	nosniff         = []string{"nosniff"}
	cacheControl    = []string{CacheControl}
	errCacheControl = []string{ErrorCacheControl}
)

// front is what runs before mux routes a request:
//
//   - It sets X-Content-Type-Options: nosniff on every answer.
//   - It serves HEAD as GET. The server, whose request is still HEAD, sends
//     the GET's status and headers without the body (net/http and its
//     HTTP/2 server both drop the body of an answer to HEAD).
//   - It takes out of the headers a Content-Type that mime.ParseMediaType
//     rejects: grpc-gateway logs every such request (runtime.
//     MarshalerForRequest), which would let any client flood the logs. A
//     POST keeps it in its requestBody, where requireJSON reads it.
//   - It reads the body of a POST, up to limit bytes. The generated
//     handlers turn any error decoding the body into INVALID_ARGUMENT,
//     which would make a body over the limit a 400; reading it here first
//     makes it a 413. The body is read whole anyway: the JSON decoder
//     buffers it before unmarshaling.
func front(mux *runtime.ServeMux, m runtime.Marshaler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Content-Type-Options"] = nosniff
		if r.Method == http.MethodHead {
			r = withMethod(r, http.MethodGet)
		}
		ctypes := r.Header["Content-Type"]
		ctype := ""
		if len(ctypes) > 0 {
			ctype = ctypes[0]
		}
		if !(len(ctypes) == 0 || len(ctypes) == 1 && ctype == "application/json") && !parsable(ctypes) {
			r = withoutContentType(r)
		}
		if r.Method != http.MethodPost {
			mux.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > limit {
			writeError(mux, m, w, r, tooLarge(limit))
			return
		}
		var body []byte
		if r.ContentLength != 0 { // Known and short enough, or unknown (-1).
			var err error
			if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit)); err != nil {
				writeError(mux, m, w, r, readError(err, limit))
				return
			}
		}
		r.Body = newRequestBody(body, ctype)
		mux.ServeHTTP(w, r)
	})
}

// withMethod returns a shallow copy of r with the method method.
func withMethod(r *http.Request, method string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	r2.Method = method
	return r2
}

// parsable reports whether mime.ParseMediaType parses every one of the
// Content-Type values.
func parsable(values []string) bool {
	for _, v := range values {
		if _, _, err := mime.ParseMediaType(v); err != nil {
			return false
		}
	}
	return true
}

// withoutContentType returns a shallow copy of r without a Content-Type
// header.
func withoutContentType(r *http.Request) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	r2.Header.Del("Content-Type")
	return r2
}

// readError is the error of a body that could not be read whole: too
// large, not sent in time, or cut short. It says what happened, never
// where: net/http's errors name the connection's addresses.
func readError(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(limit)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestTimeout,
			Err: service.RequestStatus(codes.DeadlineExceeded, service.ReasonMalformedRequest,
				"request body not received within the server's read timeout", nil, "").Err(),
		}
	}
	return malformed("request body could not be read whole", nil, "").Err()
}

// cacheHeaders is the forward-response option of the mux: it writes the
// headers of a shared answer, computed with its JSON: its Content-Length
// (which HEAD needs: a long answer would otherwise be chunked, without
// one) and, for Lookup and ListStatuses, its ETag and Cache-Control.
func (s sharedAnswers) cacheHeaders(_ context.Context, w http.ResponseWriter, resp proto.Message) error {
	a, ok := s[resp]
	if !ok {
		return nil
	}
	h := w.Header()
	h["Content-Length"] = a.contentLength
	if a.etag != nil {
		h["Etag"] = a.etag
		h["Cache-Control"] = cacheControl
	}
	return nil
}

// answer is the last middleware, so that it sees the headers the handler
// sets, and wraps the ResponseWriter of every routed request in an
// answerWriter.
func answer(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		aw := &answerWriter{ResponseWriter: w}
		if inm, ok := r.Header["If-None-Match"]; ok && r.Method == http.MethodGet {
			aw.ifNoneMatch = inm
		}
		next(aw, r, pathParams)
	}
}

// answerWriter does two things to an answer:
//
//   - It answers a GET whose If-None-Match matches the ETag of its 200 with
//     304 Not Modified, without a body (RFC 9110, section 13.1.2).
//   - It keeps write errors from grpc-gateway, which would log each one: a
//     client that resets its connection would make a log line per request.
//     A failed write means the client has gone; the request's context ends
//     with it.
type answerWriter struct {
	http.ResponseWriter
	ifNoneMatch []string // nil: not a conditional GET.
	wrote       bool
	notModified bool
}

func (a *answerWriter) WriteHeader(code int) {
	if a.wrote {
		return
	}
	a.wrote = true
	h := a.Header()
	if code == http.StatusOK && a.ifNoneMatch != nil && noneMatch(a.ifNoneMatch, h.Get("Etag")) {
		// RFC 9110, section 15.4.5: a 304 has the validator and the cache
		// headers of the 200, but none of its content.
		a.notModified = true
		code = http.StatusNotModified
		h.Del("Content-Type")
		h.Del("Content-Length")
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if a.notModified {
		return len(p), nil
	}
	_, _ = a.ResponseWriter.Write(p)
	return len(p), nil
}

// Unwrap returns the ResponseWriter a wraps, for http.ResponseController.
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// noneMatch reports whether the If-None-Match header values match etag,
// the ETag of the answer: whether its condition is false. Entity tags
// compare weakly (RFC 9110, section 8.8.3.2): W/"x" matches "x". "*"
// matches any answer. Elements that are not entity tags are skipped.
// Hand-written: net/http's parser of entity tags is not exported.
func noneMatch(values []string, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, v := range values {
		for v != "" {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			if v[0] == '*' {
				return true
			}
			tag, rest, ok := cutETag(v)
			if !ok {
				// Not an entity tag: skip to the next element.
				_, rest, _ = strings.Cut(v, ",")
			} else if etag != "" && tag == etag {
				return true
			}
			v = rest
		}
	}
	return false
}

// cutETag cuts the entity tag, weak or strong, at the start of s and
// returns its opaque tag, quotes included, and what follows it.
func cutETag(s string) (tag, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	return s[:end+2], s[end+2:], true
}

// A page is a handler served at a literal path for GET, HEAD and OPTIONS,
// beside the API's routes (WithPage).
type page struct {
	path string
	h    http.Handler
}

// register registers p on mux.
func (p page) register(mux *runtime.ServeMux) {
	err := mux.HandlePath(http.MethodGet, p.path, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		w.Header()["Cache-Control"] = cacheControl
		p.h.ServeHTTP(w, r)
	})
	if err != nil {
		panic(fmt.Sprintf("gateway: page %q: %v", p.path, err))
	}
}
