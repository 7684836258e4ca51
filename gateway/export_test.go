package gateway

import (
	"net/http"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
)

// NewGRPCGatewayOnly returns the handler New builds without its fast path
// and JSON cache: grpc-gateway and protojson alone, the reference the fast
// path must match.
func NewGRPCGatewayOnly(srv tmdbstatusv1.StatusServiceServer) http.Handler {
	return newGatewayHandler(srv, marshaler, config{maxBodyBytes: DefaultMaxBodyBytes})
}

// IsFastPath reports whether h is New's fast path.
func IsFastPath(h http.Handler) bool {
	_, ok := h.(*fastPath)
	return ok
}
