package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// fastPath answers the common requests to a *service.Server without
// grpc-gateway's per-request work (routing, the metadata of the context,
// the JSON decoder's extra pass and copy), and passes every other request
// to next, the handler built on grpc-gateway. What it writes is what next
// would write, byte for byte and header for header:
//
//   - A GET of a Lookup or ListStatuses path is answered by replaying
//     next's answer to the same path, recorded the first time. The
//     service's answer depends on the path alone, and the paths recorded
//     are bounded (codes of at most three digits).
//   - A POST to Translate whose body is one valid JSON value, of a known
//     length within the limit, is decoded as grpc-gateway decodes it and,
//     if the service answers without an error, the response is written as
//     grpc-gateway writes it. Anything else (a bad body, an error of the
//     service) goes to next with the body as it was read. The JSON of the
//     translations that depend on a few small fields alone (a status code,
//     an HTTP status, a Retry-After in seconds) is kept, up to
//     maxTranslations of them, as the service builds some of those per call.
//
// Requests that grpc-gateway could answer differently always go to next:
// those with a query, an escaped path, a body on a GET, or a header that
// grpc-gateway reads (Grpc-Timeout, which may fail the request or set a
// deadline, and TE: trailers, which changes the response's framing).
type fastPath struct {
	m     *cachingMarshaler
	next  http.Handler
	limit int64
	gets  sync.Map // path → *recording

	translations    sync.Map // translationKey → []byte: the JSON of its response
	translationsLen atomic.Int64
}

// newFastPath returns next behind a fastPath, or next itself when m is not
// the cache of a *service.Server.
func newFastPath(m runtime.Marshaler, next http.Handler, limit int64) http.Handler {
	cm, ok := m.(*cachingMarshaler)
	if !ok {
		return next
	}
	return &fastPath{m: cm, next: next, limit: limit}
}

const (
	statusesPath  = "/v1/statuses"
	translatePath = "/v1/statuses:translate"
)

func (f *fastPath) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawPath != "" || r.URL.RawQuery != "" || r.Header.Get("Grpc-Timeout") != "" || r.Header.Get("TE") != "" {
		f.next.ServeHTTP(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.ContentLength == 0 && recordable(r.URL.Path):
		f.serveGet(w, r)
	case r.Method == http.MethodPost && r.URL.Path == translatePath:
		f.serveTranslate(w, r)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// recordable reports whether path is one whose answer fastPath records:
// ListStatuses, or a Lookup of a code of one to three digits without a
// leading zero (grpc-gateway reads "07" as octal): at most 1,000 paths.
func recordable(path string) bool {
	if path == statusesPath {
		return true
	}
	code, ok := strings.CutPrefix(path, statusesPath+"/")
	if !ok || len(code) == 0 || len(code) > 3 || code[0] == '0' {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// recording is an answer of next: its status, headers and body.
type recording struct {
	status int
	header http.Header
	body   []byte
}

func (rec *recording) Header() http.Header { return rec.header }

func (rec *recording) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	rec.body = append(rec.body, b...)
	return len(b), nil
}

func (rec *recording) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (f *fastPath) serveGet(w http.ResponseWriter, r *http.Request) {
	v, ok := f.gets.Load(r.URL.Path)
	if !ok {
		rec := &recording{header: http.Header{}}
		f.next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		v, _ = f.gets.LoadOrStore(r.URL.Path, rec)
	}
	rec := v.(*recording)
	h := w.Header()
	for k, vs := range rec.header {
		h[k] = slices.Clone(vs)
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body)
}

// unmarshalOptions are those grpc-gateway decodes request bodies with.
var unmarshalOptions = marshaler.Marshaler.(*runtime.JSONPb).UnmarshalOptions

func (f *fastPath) serveTranslate(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength <= 0 || r.ContentLength > f.limit || !isJSON(r.Header.Get("Content-Type")) {
		f.next.ServeHTTP(w, r)
		return
	}
	body := make([]byte, r.ContentLength)
	n, err := io.ReadFull(r.Body, body)
	body = body[:n]
	if err != nil {
		// Let next read the same bytes, then meet the same error.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), errReader{err}), r.Body}
		f.next.ServeHTTP(w, r)
		return
	}
	// grpc-gateway decodes the first JSON value of the body with protojson;
	// when the body is one valid value, that is the body without the
	// whitespace around it.
	var req tmdbstatusv1.TranslateRequest
	if value := bytes.Trim(body, " \t\r\n"); json.Valid(value) && unmarshalOptions.Unmarshal(value, &req) == nil {
		key, pure := translationKeyOf(&req)
		if pure {
			if b, ok := f.translations.Load(key); ok {
				f.writeJSON(w, b.([]byte))
				return
			}
		}
		if resp, err := f.m.srv.Translate(r.Context(), &req); err == nil {
			if b, err := f.m.Marshal(resp); err == nil {
				if pure && f.translationsLen.Add(1) <= maxTranslations {
					f.translations.Store(key, b)
				}
				f.writeJSON(w, b)
				return
			}
		}
	}
	r.Body = readCloser{bytes.NewReader(body), r.Body}
	f.next.ServeHTTP(w, r)
}

// writeJSON writes b as grpc-gateway writes a response: with the
// Content-Type of the marshaler, the same for every message but HttpBody.
func (f *fastPath) writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", f.m.ContentType(nil))
	_, _ = w.Write(b)
}

// maxTranslations bounds the translations fastPath keeps the JSON of.
const maxTranslations = 1024

// translationKey holds every field of a TranslateRequest that translationKeyOf
// accepts: the whole input of the translation.
type translationKey struct {
	success            bool
	statusCode, status int32
	retryAfter         string
}

// translationKeyOf returns the key of req, and reports whether its
// translation depends on it alone, and so may be kept: no body, message or
// errors (which may be large), and a Retry-After that is empty or
// delay-seconds (an HTTP-date depends on the time).
func translationKeyOf(req *tmdbstatusv1.TranslateRequest) (translationKey, bool) {
	ra := req.GetRetryAfter()
	if req.GetBody() != "" || req.GetStatusMessage() != "" || len(req.GetErrors()) > 0 || len(ra) > 10 || len(req.ProtoReflect().GetUnknown()) > 0 {
		return translationKey{}, false
	}
	for i := range len(ra) {
		if ra[i] < '0' || ra[i] > '9' {
			return translationKey{}, false
		}
	}
	return translationKey{success: req.GetSuccess(), statusCode: req.GetStatusCode(), status: req.GetHttpStatus(), retryAfter: ra}, true
}

// isJSON reports whether a request with Content-Type ctype passes
// requireJSON.
func isJSON(ctype string) bool {
	if ctype == "" || ctype == "application/json" {
		return true
	}
	mediaType, _, _ := mime.ParseMediaType(ctype)
	return mediaType == "application/json"
}

// readCloser reads from Reader and closes Closer, the original body.
type readCloser struct {
	io.Reader
	io.Closer
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
