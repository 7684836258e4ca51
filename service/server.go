package service

import (
	"context"
	"time"

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
