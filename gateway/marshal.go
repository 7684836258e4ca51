package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// jsonMarshaler reads and writes every message, errors included. It is
// grpc-gateway's JSONPb with EmitDefaultValues (EmitUnpopulated would
// write unset message fields as null) and DiscardUnknown, but for work done
// once instead of per request: Marshal writes the responses of
// service.SharedResponses from their JSON, marshalled when it is made, and
// its decoder unmarshals the body front read in one pass, where JSONPb's
// reads the first JSON value and then runs protojson over it.
type jsonMarshaler struct {
	runtime.JSONPb
	shared sharedAnswers
}

var _ runtime.Marshaler = (*jsonMarshaler)(nil)

// sharedAnswers are the answers of service.SharedResponses, by message: a
// map fixed at construction, keyed by the messages' pointers.
type sharedAnswers map[proto.Message]*sharedAnswer

// sharedAnswer is the JSON of one shared response and its header values,
// computed once; net/http only reads them.
type sharedAnswer struct {
	json          []byte
	contentLength []string
	etag          []string // nil: a Translate answer, which has no validator.
}

func newMarshaler() *jsonMarshaler {
	m := &jsonMarshaler{JSONPb: runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	}}
	answers := service.SharedResponses()
	m.shared = make(sharedAnswers, len(answers))
	for _, resp := range answers {
		b, err := m.JSONPb.Marshal(resp)
		if err != nil { // The service's own messages always marshal.
			panic(fmt.Sprintf("gateway: marshal %T: %v", resp, err))
		}
		a := &sharedAnswer{json: b, contentLength: []string{strconv.Itoa(len(b))}}
		switch resp.(type) {
		case *tmdbstatusv1.LookupResponse, *tmdbstatusv1.ListStatusesResponse:
			// A strong entity tag: a hash of the bytes, the same in every process of a build.
			sum := sha256.Sum256(b)
			a.etag = []string{`"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
		}
		m.shared[resp] = a
	}
	return m
}

// Marshal returns the JSON of v, shared for a shared response.
func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	if pm, ok := v.(proto.Message); ok {
		if a, ok := m.shared[pm]; ok {
			return a.json, nil
		}
	}
	return m.JSONPb.Marshal(v)
}

// cacheHeaders is the forward-response option of the mux: it writes the
// header values of a shared answer: its Content-Length (which HEAD needs,
// as a long answer would otherwise be chunked) and, for Lookup and
// ListStatuses, its ETag and Cache-Control.
func (s sharedAnswers) cacheHeaders(_ context.Context, w http.ResponseWriter, resp proto.Message) error {
	if a, ok := s[resp]; ok {
		h := w.Header()
		h["Content-Length"] = a.contentLength
		if a.etag != nil {
			h["Etag"] = a.etag
			h["Cache-Control"] = cacheControl
		}
	}
	return nil
}

// NewDecoder returns a decoder of the body r. A requestBody of whitespace
// alone is io.EOF, which the generated handlers read as an empty request;
// the fields it leaves unset take the query's (checkRequest); one that does
// not decode leaves its status on the body, for errorHandler. Another
// reader is decoded by JSONPb.
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		body, ok := r.(*requestBody)
		pm, isProto := v.(proto.Message)
		if !ok || !isProto {
			return m.JSONPb.NewDecoder(r).Decode(v)
		}
		var err error
		if len(bytes.TrimLeft(body.data, " \t\r\n")) == 0 {
			err = io.EOF
		} else if m.UnmarshalOptions.Unmarshal(body.data, pm) != nil {
			if body.fault = m.bodyError(body.data, pm); body.fault != nil {
				return errors.New(body.fault.Message())
			}
		}
		if body.query != nil { // The body's fields win.
			proto.Merge(body.query, pm)
			proto.Reset(pm)
			proto.Merge(pm, body.query)
		}
		return err
	})
}

// requestBody is the body of a POST, which front read whole: the decoder
// takes its bytes without copying them. It carries what the middlewares
// and errorHandler learn of the request.
type requestBody struct {
	bytes.Reader
	data        []byte
	contentType string         // The request's, which front may take out of its headers.
	query       proto.Message  // Fields set by query parameters, or nil.
	fault       *status.Status // The status of a body that does not decode.
}

func newRequestBody(data []byte, contentType string) *requestBody {
	b := &requestBody{data: data, contentType: contentType}
	b.Reset(data)
	return b
}

// Close does nothing: net/http closes the request's own body.
func (*requestBody) Close() error { return nil }
