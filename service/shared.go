package service

import (
	"sync/atomic"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// built is a translation in the forms its callers take: the status as a
// proto, for Server, and the entry of its code (nil if none). One built
// once and shared also holds the *status.Status, its error and Server's
// TranslateResponse; nothing may change it once built.
type built struct {
	entry *entry
	pb    *spb.Status
	st    *status.Status
	err   error
	resp  *tmdbstatusv1.TranslateResponse
}

// newShared builds t, of entry e or nil, into a translation to share.
func newShared(t translation, e *entry) *built {
	pb := t.status()
	st := status.FromProto(pb)
	b := &built{entry: e, pb: pb, st: st, err: st.Err(), resp: &tmdbstatusv1.TranslateResponse{Status: pb}}
	if e != nil {
		b.resp.Entry = e.pb
	}
	return b
}

// okTranslation is the translation of a success without an entry.
var okTranslation = newShared(translation{code: codes.OK}, nil)

// httpOnlyTranslations holds, built on first use, the translations of
// responses that carry nothing but an HTTP status.
var httpOnlyTranslations [600]atomic.Pointer[built]

// httpOnly returns the translation of a response holding only an HTTP
// status, 100 to 599, that does not map to OK.
func httpOnly(httpStatus int) *built {
	if b := httpOnlyTranslations[httpStatus].Load(); b != nil {
		return b
	}
	b := newShared(translation{
		code:    codeFromHTTP(httpStatus),
		reason:  ReasonNoStatusCode,
		message: httpMessage(httpStatus),
		http:    httpStatus,
		retry:   retryableHTTP(httpStatus),
		delay:   tmdb.fallbackDelay,
	}, nil)
	httpOnlyTranslations[httpStatus].Store(b) // two callers may build equal ones
	return b
}

// SharedResponses returns every response message Server shares between
// calls: the ListStatuses answer, each entry's Lookup answer, and the
// Translate answers built once (an entry's code alone, an HTTP status alone,
// success). Any other response Server returns is built for its call. They
// are read-only, so a transport may encode each once and reuse the bytes.
// The slice is new at each call; the messages are not.
func SharedResponses() []proto.Message {
	shared := []proto.Message{tmdb.list, okTranslation.resp}
	for _, e := range tmdb.byCode {
		if e != nil {
			shared = append(shared, e.lookup, e.translation.resp)
		}
	}
	for h := 100; h <= 599; h++ {
		if codeFromHTTP(h) != codes.OK {
			shared = append(shared, httpOnly(h).resp)
		}
	}
	return shared
}
