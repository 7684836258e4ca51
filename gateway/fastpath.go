package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// fastPath answers the common requests without grpc-gateway's
// per-request work (routing, the metadata of the context, the JSON
// decoder's extra pass and copy), and passes every other request to next,
// the handler built on grpc-gateway. It calls srv once per request, as
// next would, and what it writes is what next would write, byte for byte
// and header for header:
//
//   - A GET of ListStatuses or of a Lookup of a code of one to three digits
//     calls srv; an answer is written with the marshaler (from its cache for
//     the service's shared answers). An error is answered as next answered
//     the same error value the first time it was seen: the service's
//     errors for such codes are built once, so there are at most
//     maxRecorded of them; an error value not seen before, once that many
//     are kept, goes to next.
//   - A POST to Translate whose body is one valid JSON value within the
//     limit is decoded as grpc-gateway decodes it and, if srv answers
//     without an error, the response is written as grpc-gateway writes it
//     (for a PureServer, from the JSON kept for an equal small request).
//     Anything else (a bad body, an error) goes to next with the body as it
//     was read.
//
// Requests that grpc-gateway could answer differently always go to next:
// those with a query, an escaped path, a body on a GET, or a header that
// grpc-gateway reads (Grpc-Timeout, which may fail the request or set a
// deadline, and TE: trailers, which changes the response's framing).
type fastPath struct {
	m     *cachingMarshaler
	srv   tmdbstatusv1.StatusServiceServer
	next  http.Handler
	limit int64

	recorded    sync.Map // error → *recording: next's answer to it
	recordedLen atomic.Int64

	pure            bool     // srv's answers depend on the request alone
	translations    sync.Map // translationKey → []byte: the JSON of its answer
	translationsLen atomic.Int64
}

// PureServer is implemented by a server whose answers depend on the
// request alone, as *service.Server's do, and are those of the service: a
// wrapper that only observes them, such as one that counts translations.
// For such a server the handler keeps the JSON of the translations of small
// requests (a status code, an HTTP status, a Retry-After in seconds), up to
// maxTranslations of them, instead of marshalling each answer; it still
// calls the server for every request.
type PureServer interface {
	tmdbstatusv1.StatusServiceServer
	// PureAnswers marks the server as pure; it is never called.
	PureAnswers()
}

// maxTranslations bounds the translations whose JSON fastPath keeps.
const maxTranslations = 1024

// maxRecorded bounds the error answers fastPath keeps.
const maxRecorded = 1024

// newFastPath returns next behind a fastPath that calls srv.
func newFastPath(m *cachingMarshaler, srv tmdbstatusv1.StatusServiceServer, next http.Handler, limit int64) http.Handler {
	_, isService := srv.(*service.Server)
	_, isPure := srv.(PureServer)
	return &fastPath{m: m, srv: srv, next: next, limit: limit, pure: isService || isPure}
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

// recordable reports whether path is one fastPath answers: ListStatuses,
// or a Lookup of a code of one to three digits without a leading zero
// (grpc-gateway reads "07" as octal).
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
	var (
		resp proto.Message
		err  error
	)
	if r.URL.Path == statusesPath {
		resp, err = f.srv.ListStatuses(r.Context(), &tmdbstatusv1.ListStatusesRequest{})
	} else {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, statusesPath+"/"))
		resp, err = f.srv.Lookup(r.Context(), &tmdbstatusv1.LookupRequest{Code: int32(code)})
	}
	if err == nil {
		if b, err := f.m.Marshal(resp); err == nil {
			f.writeJSON(w, b)
			return
		}
		f.next.ServeHTTP(w, r)
		return
	}
	v, ok := f.recorded.Load(err)
	if !ok {
		if f.recordedLen.Load() >= maxRecorded {
			f.next.ServeHTTP(w, r)
			return
		}
		// The first time: next answers it (calling srv again, once).
		rec := &recording{header: http.Header{}}
		f.next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if _, loaded := f.recorded.LoadOrStore(err, rec); !loaded {
			f.recordedLen.Add(1)
		}
		v = rec
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
	// Read what was announced, and no more than the limit, whatever the
	// announced length: memory follows the bytes that arrive.
	body, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
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
		if resp, err := f.srv.Translate(r.Context(), &req); err == nil {
			key, keep := translationKeyOf(&req)
			keep = keep && f.pure
			if keep {
				if b, ok := f.translations.Load(key); ok {
					f.writeJSON(w, b.([]byte))
					return
				}
			}
			if b, err := f.m.Marshal(resp); err == nil {
				if keep && f.translationsLen.Add(1) <= maxTranslations {
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

// translationKey holds every field of a TranslateRequest that
// translationKeyOf accepts: the whole input of its translation.
type translationKey struct {
	statusCode, httpStatus int32
	retryAfter             string
}

// translationKeyOf returns the key of req, and reports whether its
// translation depends on the key alone, and so may be kept: no body,
// headers, message or errors (which may be large), and a Retry-After that is empty
// or a few digits of delay-seconds (an HTTP-date depends on the time).
func translationKeyOf(req *tmdbstatusv1.TranslateRequest) (translationKey, bool) {
	ra := req.GetRetryAfter()
	if req.GetBody() != "" || len(req.GetBodyBytes()) > 0 || len(req.GetHeaders()) > 0 ||
		req.GetStatusMessage() != "" || len(req.GetErrors()) > 0 || len(ra) > 5 {
		return translationKey{}, false
	}
	for i := range len(ra) {
		if ra[i] < '0' || ra[i] > '9' {
			return translationKey{}, false
		}
	}
	return translationKey{statusCode: req.GetStatusCode(), httpStatus: req.GetHttpStatus(), retryAfter: ra}, true
}

// isJSON reports whether a request body with Content-Type ctype is read as
// JSON: no Content-Type, or the media type application/json whatever its
// parameters, even malformed ones (JSON is UTF-8 whatever charset says).
// requireJSON and the fast path both ask it.
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
