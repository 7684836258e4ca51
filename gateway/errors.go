package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// malformed returns a MALFORMED_REQUEST error, INVALID_ARGUMENT.
func malformed(msg string, md map[string]string, field string) *status.Status {
	return service.RequestStatus(codes.InvalidArgument, service.ReasonMalformedRequest, msg, md, field)
}

// routingError answers a request the mux has no route for: ROUTE_NOT_FOUND
// (404), METHOD_NOT_ALLOWED (405, with an Allow header) or, for a request
// whose path does not start with "/", MALFORMED_REQUEST (400). OPTIONS on
// a path that has routes is 204 No Content with the same Allow header
// (RFC 9110, section 9.3.7). A known path
// with the wrong method is 405 Method Not Allowed, not the 501 Not
// Implemented its gRPC code UNIMPLEMENTED maps to, as the grpc-gateway
// documentation shows ("Customizing Routing Errors"). probe tells the
// methods of the Allow header.
func routingError(probe *methodProbe) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		answerRoutingError(ctx, mux, m, w, r, httpStatus, probe)
	}
}

func answerRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int, probe *methodProbe) {
	var err error
	switch httpStatus {
	case http.StatusNotFound:
		err = service.RequestStatus(codes.NotFound, service.ReasonRouteNotFound, http.StatusText(httpStatus), nil, "").Err()
	case http.StatusMethodNotAllowed:
		// RFC 9110, section 15.5.6: a 405 lists the methods the path allows.
		if allow := probe.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		err = &runtime.HTTPStatusError{
			HTTPStatus: httpStatus,
			Err:        service.RequestStatus(codes.Unimplemented, service.ReasonMethodNotAllowed, http.StatusText(httpStatus), nil, "").Err(),
		}
	case http.StatusBadRequest:
		err = malformed(http.StatusText(httpStatus), nil, "").Err()
	default:
		// grpc-gateway calls the routing error handler with no other status.
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		return
	}
	runtime.HTTPError(ctx, mux, m, w, r, err)
}

// errorHandler is runtime.DefaultHTTPErrorHandler, but for an error that
// comes without a google.rpc.ErrorInfo and would be a 400: grpc-gateway's
// own errors for a path parameter, a body or a header that does not decode.
// It answers those as MALFORMED_REQUEST. An error that has an ErrorInfo, as
// every error of the service and of the gateway's own handlers has, is
// passed on untouched; so is any other error without one (none is known).
// Every error is ErrorCacheControl, without the validator and the length
// of an answer that failed after its headers were set.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	h := w.Header()
	h["Cache-Control"] = errCacheControl
	delete(h, "Etag")
	delete(h, "Content-Length")
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, withErrorInfo(ctx, r, err))
}

// withErrorInfo returns err with the ErrorInfo errorHandler gives it, or
// err itself.
func withErrorInfo(ctx context.Context, r *http.Request, err error) error {
	inner, httpStatus := err, 0
	if hs, ok := errors.AsType[*runtime.HTTPStatusError](err); ok {
		inner, httpStatus = hs.Err, hs.HTTPStatus
	}
	st := status.Convert(inner)
	if service.Details(st).ErrorInfo != nil || (st.Code() != codes.InvalidArgument && httpStatus != http.StatusBadRequest) {
		return err
	}
	st = decodeError(ctx, r, st.Message())
	if httpStatus != 0 {
		return &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()}
	}
	return st.Err()
}

// decodeError returns the MALFORMED_REQUEST error for a request that
// grpc-gateway refused with the message msg. It looks for the cause in the
// request, as grpc-gateway's messages do not name it in a way a client can
// use: for Lookup the {code} path parameter, for Translate the body. When
// it finds none there (a bad Grpc-Timeout header, say), msg is kept.
func decodeError(ctx context.Context, r *http.Request, msg string) *status.Status {
	rpc, _ := runtime.RPCMethod(ctx)
	switch rpc {
	case tmdbstatusv1.StatusService_Lookup_FullMethodName:
		pathParams, _ := ctx.Value(pathParamsKey{}).(map[string]string)
		if value, ok := pathParams["code"]; ok {
			if st := badPathParam("code", value); st != nil {
				return st
			}
		}
	case tmdbstatusv1.StatusService_Translate_FullMethodName:
		// The decoder left it there.
		if body, ok := r.Body.(*requestBody); ok && body.fault != nil {
			return body.fault
		}
	}
	return malformed(clip(msg), nil, "")
}

// badPathParam returns the error of the int32 path parameter name if value,
// its value, does not parse as the generated handler parses it; or nil.
func badPathParam(name, value string) *status.Status {
	_, err := runtime.Int32(value)
	if err == nil {
		return nil
	}
	value = clip(value)
	msg := fmt.Sprintf("%s %q is not an integer", name, value)
	if errors.Is(err, strconv.ErrRange) {
		msg = fmt.Sprintf("%s %q is out of range", name, value)
	}
	return malformed(msg, map[string]string{name: value}, name)
}

// protojsonError matches the errors of protojson.Unmarshal: their
// position, then what is wrong. protojson separates "proto:" from the rest
// with a space or a no-break space, at random, to keep its messages from
// being relied on; these are tested against it (TestErrors).
var protojsonError = regexp.MustCompile(`^proto:[\s\x{00a0}]+(?:syntax error )?\(line (\d+):(\d+)\):[\s\x{00a0}]+(.*)$`)

// fieldError matches what protojson says of a value of the wrong type.
var fieldError = regexp.MustCompile(`^invalid value for \S+ field (\S+):`)

// bodyError returns the MALFORMED_REQUEST error of the body data, which
// protojson failed to unmarshal into m, saying what (protojsonFailure of
// its error) at offset, found when needed; ok is false for an error
// without a position. It names the field at fault from that one parse:
// protojson names the field of a scalar of the wrong type, and for
// anything else gives the position where it stopped, which lies in the
// value of one top-level key.
func bodyError(data []byte, m proto.Message, what string, offset func() int, ok bool) *status.Status {
	if start := bytes.TrimLeft(data, " \t\r\n"); start[0] != '{' {
		return malformed("request body is not a JSON object", nil, "")
	}
	if !ok { // No position: the body ends too soon.
		return malformed("request body is not valid JSON: unexpected EOF", nil, "")
	}
	if strings.HasPrefix(what, "duplicate field") {
		// Each is fine alone: no one field is at fault.
		return malformed("request body: a field is given twice", nil, "")
	}
	fields := m.ProtoReflect().Descriptor().Fields()
	var fd protoreflect.FieldDescriptor
	if f := fieldError.FindStringSubmatch(what); f != nil {
		fd = fieldNamed(fields, f[1])
	} else {
		fd = fieldNamed(fields, keyAt(data, offset()))
	}
	if fd == nil {
		return malformed("request body is not valid JSON: "+clip(what), nil, "")
	}
	name := string(fd.Name())
	return malformed(fmt.Sprintf("request body: invalid value for %s (%s)", name, typeName(fd)),
		map[string]string{"field": name}, name)
}

// protojsonFailure returns what the error err of protojson.Unmarshal says
// is wrong and the 1-based line and column (in runes) where it stopped, or
// false if err gives no position.
func protojsonFailure(err error) (what string, line, col int, ok bool) {
	match := protojsonError.FindStringSubmatch(err.Error())
	if match == nil {
		return "", 0, 0, false
	}
	line, _ = strconv.Atoi(match[1])
	col, _ = strconv.Atoi(match[2])
	return match[3], line, col, true
}

// fieldNamed returns the field of fields whose JSON or proto name is name,
// as protojson accepts either; or nil.
func fieldNamed(fields protoreflect.FieldDescriptors, name string) protoreflect.FieldDescriptor {
	if fd := fields.ByJSONName(name); fd != nil {
		return fd
	}
	return fields.ByName(protoreflect.Name(name))
}

// offsetOf returns the byte offset in data of the 1-based line and column
// (in runes) of a protojson error: in time linear in the offset, at the
// speed of bytes.IndexByte and utf8.RuneCount for ASCII text.
func offsetOf(data []byte, line, col int) int {
	off := 0
	for ; line > 1 && off < len(data); line-- {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return len(data)
		}
		off += i + 1
	}
	if end := off + col - 1; end <= len(data) && utf8.RuneCount(data[off:end]) == col-1 {
		return end // ASCII: a column is a byte.
	}
	for ; col > 1 && off < len(data); col-- {
		_, n := utf8.DecodeRune(data[off:])
		off += n
	}
	return off
}

// keyAt returns the top-level key of the JSON object data in whose value
// offset lies, or "" if none does: a scan of the strings and brackets
// before offset, which the failed parse has already found well formed.
func keyAt(data []byte, offset int) string {
	depth, key := 0, ""
	offset = min(offset, len(data))
	for i := 0; i < offset; i++ {
		j := bytes.IndexAny(data[i:offset], `{}[]"`)
		if j < 0 {
			break
		}
		i += j
		switch data[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			start := i
			i = stringEnd(data, i+1)
			if depth == 1 && isKey(data[min(i+1, len(data)):]) {
				var k string
				if json.Unmarshal(data[start:min(i+1, len(data))], &k) == nil {
					key = k
				}
			}
		}
	}
	return key
}

// stringEnd returns the index of the quote that ends the JSON string
// whose content starts at data[i], or len(data).
func stringEnd(data []byte, i int) int {
	for i < len(data) {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return len(data)
		}
		i += j
		backslashes := 0
		for k := i - 1; k >= 0 && data[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
		i++
	}
	return len(data)
}

// isKey reports whether rest, what follows a string, starts with the
// colon that makes the string a key.
func isKey(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == ':'
}

// typeName returns the type of field fd as the proto declares it: "int32",
// "repeated string".
func typeName(fd protoreflect.FieldDescriptor) string {
	if fd.IsList() {
		return "repeated " + fd.Kind().String()
	}
	return fd.Kind().String()
}
