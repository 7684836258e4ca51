package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// jsonMarshaler reads and writes every message, errors included. It is
// grpc-gateway's JSONPb with EmitDefaultValues (EmitUnpopulated would
// write unset message fields as null) and DiscardUnknown, but for work done
// once instead of per request: Marshal writes the responses of
// service.SharedResponses from their JSON, marshalled when it is made (a
// map fixed at construction, keyed by the messages' pointers), and its
// decoder unmarshals the body front read in one pass, where JSONPb's reads
// the first JSON value and then runs protojson over it.
type jsonMarshaler struct {
	runtime.JSONPb
	shared sharedAnswers
}

// sharedAnswers are the answers of service.SharedResponses, by message.
type sharedAnswers map[proto.Message]*sharedAnswer

// sharedAnswer is the JSON of one shared response and its header values,
// computed once; net/http only reads them.
type sharedAnswer struct {
	json          []byte
	contentLength []string
	etag          []string // nil: a Translate answer, which has no validator.
}

var _ runtime.Marshaler = (*jsonMarshaler)(nil)

// newMarshaler returns the marshaler of the handler, the JSON of the
// service's shared responses computed.
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
			// A strong entity tag: a hash of the bytes, the same in every
			// process of one build.
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

// Unmarshal decodes the JSON data into v.
func (m *jsonMarshaler) Unmarshal(data []byte, v any) error {
	_, err := m.decode(data, v)
	return err
}

// NewDecoder returns a decoder of the JSON body r: the request body as
// front kept it, or any reader, read whole. It completes the fields the
// body leaves unset with those the query set (see checkRequest), and
// leaves the status of a body that does not decode on it, for
// errorHandler.
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		body, ok := r.(*requestBody)
		if !ok {
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			body = &requestBody{data: data}
		}
		st, err := m.decode(body.data, v)
		body.fault = st
		if pm, ok := v.(proto.Message); ok && body.query != nil && (err == nil || err == io.EOF) {
			d := pm.ProtoReflect()
			body.query.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
				if !d.Has(fd) {
					d.Set(fd, v)
				}
				return true
			})
		}
		return err
	})
}

// decode unmarshals data into v. A body of whitespace alone is io.EOF,
// which the generated handlers read as an empty request. A body that does
// not decode gives its MALFORMED_REQUEST status (bodyError) and an error
// of its message.
func (m *jsonMarshaler) decode(data []byte, v any) (*status.Status, error) {
	pm, ok := v.(proto.Message)
	if !ok {
		return nil, m.JSONPb.Unmarshal(data, v)
	}
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return nil, io.EOF
	}
	if m.UnmarshalOptions.Unmarshal(data, pm) == nil {
		return nil, nil
	}
	if st := m.bodyError(data, pm); st != nil {
		return st, errors.New(st.Message())
	}
	return nil, nil
}

// requestBody is the body of a POST, which front read whole: the decoder
// takes its bytes without copying them. It carries what the middlewares
// and errorHandler learn of the request.
type requestBody struct {
	bytes.Reader
	data        []byte
	contentType string         // The request's Content-Type, "" if none.
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
