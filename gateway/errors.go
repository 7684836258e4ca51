package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
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
// whose path does not start with "/", MALFORMED_REQUEST (400). A known path
// with the wrong method is 405 Method Not Allowed, not the 501 Not
// Implemented its gRPC code UNIMPLEMENTED maps to, as the grpc-gateway
// documentation shows ("Customizing Routing Errors").
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusNotFound:
		err = service.RequestStatus(codes.NotFound, service.ReasonRouteNotFound, http.StatusText(httpStatus), nil, "").Err()
	case http.StatusMethodNotAllowed:
		// RFC 9110, section 15.5.6: a 405 lists the methods the path allows.
		if allow := allowedMethods(r.URL.Path); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
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
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, withErrorInfo(ctx, err))
}

// withErrorInfo returns err with the ErrorInfo errorHandler gives it, or
// err itself.
func withErrorInfo(ctx context.Context, err error) error {
	inner, httpStatus := err, 0
	if hs, ok := errors.AsType[*runtime.HTTPStatusError](err); ok {
		inner, httpStatus = hs.Err, hs.HTTPStatus
	}
	st := status.Convert(inner)
	if hasErrorInfo(st) || (st.Code() != codes.InvalidArgument && httpStatus != http.StatusBadRequest) {
		return err
	}
	st = decodeError(ctx, st.Message())
	if httpStatus != 0 {
		return &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()}
	}
	return st.Err()
}

// hasErrorInfo reports whether st has a google.rpc.ErrorInfo among its
// details.
func hasErrorInfo(st *status.Status) bool {
	for _, d := range st.Proto().GetDetails() {
		if d.MessageIs((*errdetails.ErrorInfo)(nil)) {
			return true
		}
	}
	return false
}

// decodeError returns the MALFORMED_REQUEST error for a request that
// grpc-gateway refused with the message msg. It looks for the cause in the
// request, as grpc-gateway's messages do not name it in a way a client can
// use: for Lookup the {code} path parameter, for Translate the body. When
// it finds none there (a bad Grpc-Timeout header, say), msg is kept.
func decodeError(ctx context.Context, msg string) *status.Status {
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
		body, _ := ctx.Value(bodyKey{}).([]byte)
		if st := badBody(body, (*tmdbstatusv1.TranslateRequest)(nil)); st != nil {
			return st
		}
	}
	return malformed(msg, nil, "")
}

// badPathParam returns the error of the int32 path parameter name if value,
// its value, does not parse as the generated handler parses it; or nil.
func badPathParam(name, value string) *status.Status {
	_, err := runtime.Int32(value)
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s %q is not an integer", name, value)
	if errors.Is(err, strconv.ErrRange) {
		msg = fmt.Sprintf("%s %q is out of range", name, value)
	}
	return malformed(msg, map[string]string{name: value}, name)
}

// badBody returns the error of a request body that does not decode into a
// message of the type of m, naming the field at fault when there is one; or
// nil if it finds nothing wrong with body.
func badBody(body []byte, m proto.Message) *status.Status {
	// Read the first JSON value, as grpc-gateway's JSON decoder does.
	var raw json.RawMessage
	switch err := json.NewDecoder(bytes.NewReader(body)).Decode(&raw); {
	case errors.Is(err, io.EOF):
		return nil // No body: grpc-gateway reads it as an empty message.
	case err != nil:
		return malformed(fmt.Sprintf("request body is not valid JSON: %v", err), nil, "")
	}
	var object map[string]json.RawMessage
	if err := json.Unmarshal(raw, &object); err != nil || object == nil {
		return malformed("request body is not a JSON object", nil, "")
	}
	// Decode each field alone: the first that fails is the one at fault.
	// protojson accepts a field under its JSON name or its proto name.
	fields := m.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		for _, key := range []string{fd.JSONName(), string(fd.Name())} {
			value, ok := object[key]
			if !ok {
				continue
			}
			alone, err := json.Marshal(map[string]json.RawMessage{key: value})
			if err == nil {
				err = marshaler.Unmarshal(alone, m.ProtoReflect().New().Interface())
			}
			if err != nil {
				name := string(fd.Name())
				return malformed(fmt.Sprintf("request body: invalid value for %s (%s)", name, typeName(fd)),
					map[string]string{"field": name}, name)
			}
		}
	}
	return nil
}

// typeName returns the type of field fd as the proto declares it: "int32",
// "repeated string".
func typeName(fd protoreflect.FieldDescriptor) string {
	if fd.IsList() {
		return "repeated " + fd.Kind().String()
	}
	return fd.Kind().String()
}
