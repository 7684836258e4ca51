package main

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// call is one request of the load's mix, sent over gRPC as grpcMethod with
// msg, and over REST as method and path with json as the body.
type call struct {
	name       string
	grpcMethod string
	msg        proto.Message
	method     string
	path       string
	json       []byte // nil for a GET
}

// tmdbNotFound is the body TMDB answers a missing movie with.
const tmdbNotFound = `{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}`

// mix is the load the benchmark sends to tmdbstatus, in equal parts: a
// success and an error of Lookup, and two Translate calls, one answered from
// the table (a raw TMDB body) and one built per call (a rate limit with a
// Retry-After).
var mix = []call{
	lookup("lookup-7", 7),
	lookup("lookup-99-not-found", 99),
	translate("translate-body-34", &tmdbstatusv1.TranslateRequest{HttpStatus: 404, Body: tmdbNotFound}),
	translate("translate-25-retry-after", &tmdbstatusv1.TranslateRequest{StatusCode: 25, HttpStatus: 429, RetryAfter: "10"}),
}

func lookup(name string, code int32) call {
	return call{
		name:       name,
		grpcMethod: tmdbstatusv1.StatusService_Lookup_FullMethodName,
		msg:        &tmdbstatusv1.LookupRequest{Code: code},
		method:     "GET",
		path:       fmt.Sprintf("/v1/statuses/%d", code),
	}
}

func translate(name string, req *tmdbstatusv1.TranslateRequest) call {
	body, err := protojson.Marshal(req)
	if err != nil {
		panic(err)
	}
	return call{
		name:       name,
		grpcMethod: tmdbstatusv1.StatusService_Translate_FullMethodName,
		msg:        req,
		method:     "POST",
		path:       "/v1/statuses:translate",
		json:       body,
	}
}

// grpcFrame returns msg as the body of a unary gRPC request: one
// uncompressed length-prefixed message.
func grpcFrame(msg proto.Message) []byte {
	b, err := proto.Marshal(msg)
	if err != nil {
		panic(err)
	}
	frame := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(b)))
	return append(frame, b...)
}
