package service

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// SharedResponses returns every response message Server shares between
// calls: the ListStatuses answer, the Lookup answer of each row of the
// table, and the Translate answers built once (a row's code alone, an HTTP
// status alone, success). A response Server returns is either one of these
// very pointers or a message built for its call. They are read-only, so a
// transport may encode each once and reuse the bytes. The slice is new at
// each call; the messages are not.
func SharedResponses() []proto.Message {
	shared := []proto.Message{tmdb.list, okAnswer.resp}
	for _, r := range tmdb.rows {
		if r != nil {
			shared = append(shared, r.lookup, r.answer.resp)
		}
	}
	for h := 100; h <= 599; h++ {
		if codeFromHTTP(h) != codes.OK {
			shared = append(shared, httpOnly(h).resp)
		}
	}
	return shared
}
