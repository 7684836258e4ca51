package service

import (
	"context"
	"sync/atomic"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// Server is the StatusService; its responses may be shared (see SharedResponses) and are read-only.
type Server struct {
	tmdbstatusv1.UnimplementedStatusServiceServer
}

var _ tmdbstatusv1.StatusServiceServer = (*Server)(nil)

// New returns the StatusService server.
func New() *Server { return &Server{} }

// Lookup returns the table entry of one TMDB status code.
func (*Server) Lookup(_ context.Context, req *tmdbstatusv1.LookupRequest) (*tmdbstatusv1.LookupResponse, error) {
	if e := tmdb.entry(req.GetCode()); e != nil {
		return e.lookup, nil
	}
	return nil, lookupError(req.GetCode())
}

// ListStatuses returns TMDB's whole table in code order.
func (*Server) ListStatuses(context.Context, *tmdbstatusv1.ListStatusesRequest) (*tmdbstatusv1.ListStatusesResponse, error) {
	return tmdb.list, nil
}

// Translate maps what TMDB answered to a google.rpc.Status, as the function Translate does.
func (*Server) Translate(_ context.Context, req *tmdbstatusv1.TranslateRequest) (*tmdbstatusv1.TranslateResponse, error) {
	b, err := translate(req, time.Now)
	switch {
	case err != nil:
		return nil, err
	case b.resp != nil:
		return b.resp, nil
	}
	resp := &tmdbstatusv1.TranslateResponse{Status: b.pb}
	if b.entry != nil {
		resp.Entry = b.entry.pb
	}
	return resp, nil
}

// built is a translation as its callers take it; a shared one also holds st, err and resp.
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

// httpOnlyTranslations holds those of httpOnly, built on first use.
var httpOnlyTranslations [600]atomic.Pointer[built]

// httpOnly returns the translation of a response holding only an HTTP status that is no success.
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

// SharedResponses returns the read-only responses Server shares, for a transport to encode once.
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
