package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
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
// write an unset message field as null: "localizedMessage": null in the
// field violations of a google.rpc.BadRequest) and DiscardUnknown, and
// two differences, both work done once instead of per request:
//
//   - Marshal writes the responses service.SharedResponses lists from their
//     JSON, marshalled when the marshaler is made: those messages never
//     change, so neither does their JSON. The map is fixed at construction
//     and keyed by the messages' pointers, so it stays bounded whatever
//     the requests, and serves any server that passes the service's
//     answers on.
//   - Its decoder reads the body once and unmarshals it with protojson
//     once. JSONPb's decoder reads the first JSON value into a
//     json.RawMessage and then runs protojson over it: two passes. A body
//     is one JSON object; as with JSONPb, what follows it is not read.
type jsonMarshaler struct {
	runtime.JSONPb
	shared sharedAnswers
}

// sharedAnswers are the answers of service.SharedResponses, by message,
// each marshalled once.
type sharedAnswers map[proto.Message]*sharedAnswer

// sharedAnswer is the JSON of one shared response and the headers that go
// with it, computed once. The header values are shared too: net/http only
// reads them.
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
		if err != nil {
			// The service's own messages always marshal: a failure is a
			// programming error.
			panic(fmt.Sprintf("gateway: marshal %T: %v", resp, err))
		}
		a := &sharedAnswer{json: b, contentLength: []string{strconv.Itoa(len(b))}}
		switch resp.(type) {
		case *tmdbstatusv1.LookupResponse, *tmdbstatusv1.ListStatusesResponse:
			a.etag = []string{etagOf(b)}
		}
		m.shared[resp] = a
	}
	return m
}

// etagOf returns the strong entity tag of the representation b: a hash of
// its bytes, the same in every process of one build.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// Marshal returns the JSON of v. The bytes of a shared response are
// shared too: grpc-gateway only writes them.
func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	if pm, ok := v.(proto.Message); ok {
		if a, ok := m.shared[pm]; ok {
			return a.json, nil
		}
	}
	return m.JSONPb.Marshal(v)
}

// Unmarshal decodes the JSON data into v, a proto message.
func (m *jsonMarshaler) Unmarshal(data []byte, v any) error {
	_, err := m.decode(data, v)
	return err
}

// NewDecoder returns a decoder of the JSON body r: the request body as
// front kept it, or any reader, read whole. The fields of a body front
// kept are completed with the request's query parameters (see
// checkQuery): what the body sets wins.
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
			fillUnset(pm, body.query)
		}
		return err
	})
}

// fillUnset sets each field of dst that is unset to its value in src, a
// message of the same type.
func fillUnset(dst, src proto.Message) {
	d := dst.ProtoReflect()
	src.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !d.Has(fd) {
			d.Set(fd, v)
		}
		return true
	})
}

// decode unmarshals data into v. An empty body, or one of whitespace
// alone, is io.EOF: no message, which the generated handlers read as an
// empty request. A body that does not decode gives its MALFORMED_REQUEST
// status, naming the field at fault when there is one, and an error of
// its message.
func (m *jsonMarshaler) decode(data []byte, v any) (*status.Status, error) {
	pm, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("cannot decode JSON into %T", v)
	}
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return nil, io.EOF
	}
	err := m.UnmarshalOptions.Unmarshal(data, pm)
	if err == nil {
		return nil, nil
	}
	// Like JSONPb's decoder, read the first JSON value and ignore what
	// follows it: when protojson stopped after a whole object, unmarshal
	// that object (a second parse, for such bodies alone).
	// A value of the wrong type needs no position: protojson names its
	// field. Finding the offset of a line and column is a pass over the
	// body, done once and only if needed.
	what, line, col, ok := protojsonFailure(err)
	at := -1
	offset := func() int {
		if at < 0 {
			at = offsetOf(data, line, col)
		}
		return at
	}
	if ok && !fieldError.MatchString(what) && offset() < len(data) && endsObject(data[:offset()]) {
		if m.UnmarshalOptions.Unmarshal(data[:offset()], pm) == nil {
			return nil, nil
		}
	}
	st := bodyError(data, pm, what, offset, ok)
	return st, fmt.Errorf("%s", st.Message())
}

// endsObject reports whether b, once trailing whitespace is cut, ends as
// a JSON object does, and holds more than "{}" might: where protojson
// stops if a whole object is followed by something else.
func endsObject(b []byte) bool {
	b = bytes.TrimRight(b, " \t\r\n")
	return len(b) > 1 && b[len(b)-1] == '}'
}

// requestBody is the body of a POST, which front read whole: the decoder
// takes its bytes without copying them, and leaves there the status of a
// body that does not decode, for errorHandler. It also carries what the
// middlewares need to know of the request: its Content-Type, which front
// may take out of the headers (see front), and the fields its query
// parameters set.
type requestBody struct {
	bytes.Reader
	data        []byte
	contentType string        // The request's Content-Type, "" if none.
	query       proto.Message // Fields set by query parameters, or nil.
	fault       *status.Status
}

func newRequestBody(data []byte, contentType string) *requestBody {
	b := &requestBody{data: data, contentType: contentType}
	b.Reset(data)
	return b
}

// Close does nothing: net/http closes the request's own body.
func (*requestBody) Close() error { return nil }
