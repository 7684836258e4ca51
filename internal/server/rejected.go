package server

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The reasons of tmdbstatus_grpc_rejected_total: why grpc-go refused an RPC
// before its handler ran.
const (
	rejectedTooLarge      = "message_too_large" // RESOURCE_EXHAUSTED: over --grpc-max-recv-bytes
	rejectedUndecodable   = "undecodable"       // INTERNAL: not a message of the method's type, or none
	rejectedCompression   = "compression"       // INTERNAL: a compressed message that does not decompress
	rejectedUnknownMethod = "unknown_method"    // UNIMPLEMENTED: a service or method the server does not have
	rejectedDeadline      = "deadline"          // DEADLINE_EXCEEDED: the request message did not come in time
)

// rejections counts the RPCs grpc-go refuses before their handler, by
// reason (see doc.go).
type rejections struct {
	tooLarge, undecodable, compression, unknown, deadline prometheus.Counter
	services                                              map[string]bool // the server's, set before it serves
}

func newRejections(f promauto.Factory) *rejections {
	reasons := []string{
		rejectedTooLarge, rejectedUndecodable, rejectedCompression, rejectedUnknownMethod, rejectedDeadline}
	vec := f.NewCounterVec(prometheus.CounterOpts{
		Name: "tmdbstatus_grpc_rejected_total",
		Help: "RPCs refused before their handler ran, by reason: " + strings.Join(reasons, ", ") + ".",
	}, []string{"reason"})
	return &rejections{
		tooLarge:    vec.WithLabelValues(rejectedTooLarge),
		undecodable: vec.WithLabelValues(rejectedUndecodable),
		compression: vec.WithLabelValues(rejectedCompression),
		unknown:     vec.WithLabelValues(rejectedUnknownMethod),
		deadline:    vec.WithLabelValues(rejectedDeadline),
	}
}

// countDecodeFailures returns a copy of desc whose unary handlers count the
// RPCs whose request grpc-go failed to receive: an error without details,
// as the handlers' own errors all carry their ErrorInfo. The generated
// handler decodes the request before any interceptor runs.
func (r *rejections) countDecodeFailures(desc *grpc.ServiceDesc) *grpc.ServiceDesc {
	d := *desc
	d.Methods = slices.Clone(desc.Methods)
	for i, md := range d.Methods {
		d.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			resp, err := md.Handler(srv, ctx, dec, ic)
			if err != nil {
				r.failed(err)
			}
			return resp, err
		}
	}
	return &d
}

// failed counts the RPC of an error without details: grpc-go's.
func (r *rejections) failed(err error) {
	st := status.Convert(err)
	var c prometheus.Counter
	switch st.Code() {
	case codes.ResourceExhausted:
		c = r.tooLarge
	case codes.DeadlineExceeded:
		c = r.deadline
	case codes.Internal:
		c = r.undecodable
		if strings.Contains(st.Message(), "ompress") { // "grpc: failed to decompress ...", "compressed flag set ..."
			c = r.compression
		}
	default:
		return // CANCELED is the client going away, no refusal; the rest are the handler's.
	}
	if len(st.Proto().GetDetails()) == 0 {
		c.Inc()
	}
}

// unknownService answers an RPC of a service or method the server does not
// have as grpc-go does without this handler, and counts it.
func (r *rejections) unknownService(_ any, ss grpc.ServerStream) error {
	r.unknown.Inc()
	method, _ := grpc.MethodFromServerStream(ss)
	i := strings.LastIndex(method, "/") // grpc-go has checked that there is one after the leading one
	service, name := method[1:i], method[i+1:]
	if !r.services[service] {
		return status.Error(codes.Unimplemented, "unknown service "+service)
	}
	return status.Error(codes.Unimplemented, fmt.Sprintf("unknown method %v for service %v", name, service))
}
