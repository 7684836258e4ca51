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
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// jsonMarshaler is grpc-gateway's JSONPb (EmitDefaultValues, DiscardUnknown)
// that writes a shared response from its JSON marshalled at start-up, and
// decodes the body handler.ServeHTTP read in one pass, not JSONPb's two.
type jsonMarshaler struct {
	runtime.JSONPb
	shared sharedAnswers
}

var _ runtime.Marshaler = (*jsonMarshaler)(nil)

// sharedAnswers are the answers of service.SharedResponses, by pointer.
type sharedAnswers map[proto.Message]*sharedAnswer

// sharedAnswer is the JSON of a shared response and its header values.
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
			a.etag = []string{ETag(b)}
		}
		m.shared[resp] = a
	}
	return m
}

// ETag returns the strong ETag of a fixed answer's body: a hash of it, the
// same in every process of a build.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
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

// cacheHeaders, a forward-response option, writes a shared answer's
// Content-Length (which HEAD needs) and, if it has one, ETag and CacheControl.
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

// NewDecoder returns a decoder of r. A requestBody of whitespace is io.EOF,
// an empty request; the query fills the fields it leaves unset; one that
// does not decode leaves its status on the body for errorHandler.
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

// bodyError returns the error of data, which protojson failed to unmarshal
// into pm, naming a field that fails alone; or nil if data is an object
// followed by more, of which it unmarshals the object, as JSONPb does. It
// reads data once and tries the members smallest first, so that a large
// valid member is decoded again only when no other fails.
func (m *jsonMarshaler) bodyError(data []byte, pm proto.Message) *status.Status {
	if bytes.TrimLeft(data, " \t\r\n")[0] != '{' {
		return malformed("request body is not a JSON object", nil, "")
	}
	members, end, err := topMembers(data)
	if err != nil {
		if serr, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
			err = serr.Err
		}
		return malformed("request body is not valid JSON: "+clip(err.Error()), nil, "")
	}
	slices.SortStableFunc(members, func(a, b member) int { return len(a.value) - len(b.value) })
	fields := pm.ProtoReflect().Descriptor().Fields()
	for _, mb := range members {
		fd := fields.ByJSONName(mb.name)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(mb.name))
		}
		if fd != nil && m.UnmarshalOptions.Unmarshal(fmt.Appendf(nil, `{%q:%s}`, fd.JSONName(), mb.value), pm) != nil {
			return malformed(fmt.Sprintf("request body: invalid value for %s (%s)", fd.Name(), typeName(fd)),
				map[string]string{"field": string(fd.Name())}, string(fd.Name()))
		}
	}
	if m.UnmarshalOptions.Unmarshal(data[:end], pm) != nil {
		// Each member is fine alone: a field is given by both its names.
		return malformed("request body: a field is given twice", nil, "")
	}
	return nil
}

// member is a member of a JSON object: its name, and its value as a slice
// of the input.
type member struct {
	name  string
	value []byte
}

// topMembers returns the members of the JSON object data starts with, and
// the offset of its end.
func topMembers(data []byte) ([]member, int64, error) {
	dec := jsontext.NewDecoder(bytes.NewBuffer(data), jsontext.AllowDuplicateNames(true)) // protojson refuses them.
	if _, err := dec.ReadToken(); err != nil {                                            // The '{'.
		return nil, 0, err
	}
	var members []member
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, 0, err
		}
		name, start := tok.String(), dec.InputOffset()
		if err := dec.SkipValue(); err != nil {
			return nil, 0, err
		}
		value := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n:")
		members = append(members, member{name, value})
	}
	if _, err := dec.ReadToken(); err != nil { // The '}', or the error PeekKind saw.
		return nil, 0, err
	}
	return members, dec.InputOffset(), nil
}

// requestBody is the body of a POST, read whole before the mux, and what the
// middlewares and errorHandler learn of the request.
type requestBody struct {
	bytes.Reader
	data        []byte
	contentType string         // The request's, which may be taken out of its headers.
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
