package gateway

import (
	"context"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// cachingMarshaler is a marshaler that writes the JSON of the responses
// package service shares between calls (every Lookup and ListStatuses
// answer, and the Translate answers that add nothing to the table) from a
// cache, and marshals every other message as m does. A shared response is
// built once and never changed, so its JSON is the same at every call: it
// is computed on first use, by m, and kept.
//
// The cache is keyed by the response's pointer, and holds the response, so
// that the pointer cannot be reused for another message. Its keys are
// fixed when the handler is made, so it stays bounded whatever the
// requests. It serves any StatusServiceServer: one that wraps the service
// and passes its answers on gets their JSON from the cache, any other
// answer is marshalled as usual.
type cachingMarshaler struct {
	runtime.Marshaler
	static map[proto.Message]*cachedJSON
}

// cachedJSON is the JSON of one shared response, computed once.
type cachedJSON struct {
	once sync.Once
	b    []byte
	err  error
}

// Marshal returns the JSON of v, from the cache if v is a shared response.
// The bytes of a cached response are shared: grpc-gateway only writes them.
func (m *cachingMarshaler) Marshal(v any) ([]byte, error) {
	if pm, ok := v.(proto.Message); ok {
		if c := m.static[pm]; c != nil {
			c.once.Do(func() { c.b, c.err = m.Marshaler.Marshal(pm) })
			return c.b, c.err
		}
	}
	return m.Marshaler.Marshal(v)
}

// newCachingMarshaler returns m with a cache of the responses package
// service shares.
func newCachingMarshaler(m runtime.Marshaler) *cachingMarshaler {
	s := service.New()
	static := map[proto.Message]*cachedJSON{}
	add := func(resp proto.Message, err error) {
		if err == nil && resp != nil {
			static[resp] = &cachedJSON{}
		}
	}
	ctx := context.Background()
	add(s.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{}))
	for _, e := range service.Entries() {
		add(s.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: e.TMDBCode()}))
		add(s.Translate(ctx, &tmdbstatusv1.TranslateRequest{StatusCode: e.TMDBCode()}))
	}
	// The answers to an HTTP status alone are shared too, once built.
	for h := int32(100); h <= 599; h++ {
		add(s.Translate(ctx, &tmdbstatusv1.TranslateRequest{HttpStatus: h}))
	}
	return &cachingMarshaler{Marshaler: m, static: static}
}
