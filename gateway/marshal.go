package gateway

import (
	"bytes"
	"fmt"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

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
	shared map[proto.Message][]byte
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
	m.shared = make(map[proto.Message][]byte, len(answers))
	for _, resp := range answers {
		b, err := m.JSONPb.Marshal(resp)
		if err != nil {
			// The service's own messages always marshal: a failure is a
			// programming error.
			panic(fmt.Sprintf("gateway: marshal %T: %v", resp, err))
		}
		m.shared[resp] = b
	}
	return m
}

// Marshal returns the JSON of v. The bytes of a shared response are
// shared too: grpc-gateway only writes them.
func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	if pm, ok := v.(proto.Message); ok {
		if b, ok := m.shared[pm]; ok {
			return b, nil
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
// limitBody kept it, or any reader, read whole.
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
		return err
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
	if what, offset, ok := protojsonFailure(data, err); ok && !fieldError.MatchString(what) && offset > 1 && offset < len(data) && data[offset-1] != '{' {
		if m.UnmarshalOptions.Unmarshal(data[:offset], pm) == nil {
			return nil, nil
		}
	}
	st := bodyError(data, pm, err)
	return st, fmt.Errorf("%s", st.Message())
}

// requestBody is a request body limitBody read whole: the decoder takes
// its bytes without copying them, and leaves there the status of a body
// that does not decode, for errorHandler.
type requestBody struct {
	bytes.Reader
	data  []byte
	fault *status.Status
}

func newRequestBody(data []byte) *requestBody {
	b := &requestBody{data: data}
	b.Reset(data)
	return b
}

// Close does nothing: net/http closes the request's own body.
func (*requestBody) Close() error { return nil }
