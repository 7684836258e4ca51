package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// metrics are the Prometheus metrics of one serve, in a registry of its own
// so that tests can run servers side by side. Every child a request can
// touch is resolved at start-up (see doc.go).
type metrics struct {
	registry   *prometheus.Registry
	rpcs       map[string]*rpcSeries // by full method name
	rest       map[restKey]restSeries
	rejected   *rejections
	byTMDBCode map[int32]prometheus.Counter // the table's codes, with their rows' gRPC codes

	grpcStarted, grpcHandled, grpcReceived, grpcSent *prometheus.CounterVec
	grpcSeconds                                      *prometheus.HistogramVec
	httpRequests, translations                       *prometheus.CounterVec
	httpDuration                                     *prometheus.HistogramVec
}

// rpcSeries are the children of one gRPC method.
type rpcSeries struct {
	started, received, sent prometheus.Counter
	handled                 [codes.Unauthenticated + 1]prometheus.Counter
	seconds                 prometheus.Observer
	streaming               bool
}

// restKey is the labels of a REST request.
type restKey struct {
	route, method string
	code          int
}

// restSeries are the children of one restKey.
type restSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// routeOther is the route label of the REST requests the gateway does not
// route: a path the API lacks, a method the path does not allow, a body
// over the limit.
const routeOther = "other"

// noTMDBCode is the tmdb_code label of a translation without a code of
// TMDB's table.
const noTMDBCode = "none"

// restMethods are the methods whose label is their own; any other is
// "other", so that a client cannot make new series at will.
var restMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

func newMetrics() *metrics {
	m := &metrics{
		registry:   prometheus.NewRegistry(),
		rpcs:       map[string]*rpcSeries{},
		rest:       map[restKey]restSeries{},
		byTMDBCode: map[int32]prometheus.Counter{},
	}
	m.registry.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := promauto.With(m.registry)
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	buckets := prometheus.ExponentialBuckets(0.0001, 4, 10) // 100 µs to about 26 s
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return f.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	}
	rpc := []string{"grpc_type", "grpc_service", "grpc_method"}
	m.grpcStarted = counter("grpc_server_started_total",
		"Total number of RPCs started on the server.", rpc...)
	m.grpcHandled = counter("grpc_server_handled_total",
		"Total number of RPCs completed on the server, regardless of success or failure.", append(rpc, "grpc_code")...)
	m.grpcReceived = counter("grpc_server_msg_received_total",
		"Total number of RPC stream messages received on the server.", rpc...)
	m.grpcSent = counter("grpc_server_msg_sent_total",
		"Total number of gRPC stream messages sent by the server.", rpc...)
	m.grpcSeconds = histogram("grpc_server_handling_seconds",
		"Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.", rpc...)
	m.rejected = newRejections(f)
	m.httpRequests = counter("http_requests_total",
		"REST requests completed, by route, method and HTTP status code.", "route", "method", "code")
	m.httpDuration = histogram("http_request_duration_seconds",
		"Latency of REST requests, by route and method.", "route", "method")
	m.translations = counter("tmdbstatus_translations_total",
		"Translations of TMDB answers, over gRPC and REST, by TMDB status code ("+noTMDBCode+
			" when it is not in TMDB's table) and resulting gRPC code.", "tmdb_code", "grpc_code")

	// Every row of the table starts at zero, so that rates exist from the
	// first scrape on.
	for _, e := range service.Entries() {
		m.byTMDBCode[e.TMDBCode()] = m.translations.WithLabelValues(strconv.Itoa(int(e.TMDBCode())), e.Code.String())
	}
	// Each route with the statuses it can answer, and the requests the
	// gateway does not route with those it refuses them with.
	for _, rt := range gateway.Routes() {
		for _, code := range []int{200, 400, 404, 415, 500} {
			key := restKey{rt.Template, rt.Method, code}
			m.rest[key] = m.restChildren(key)
		}
	}
	for _, method := range restMethods {
		for _, code := range []int{400, 404, 405, 413} {
			key := restKey{routeOther, method, code}
			m.rest[key] = m.restChildren(key)
		}
	}
	return m
}

// handler serves the metrics in Prometheus' exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// resolveGRPC resolves the children of every method s serves, each code of
// grpc_server_handled_total at zero, as go-grpc-middleware's
// InitializeMetrics does.
func (m *metrics) resolveGRPC(s *grpc.Server) {
	m.rejected.services = map[string]bool{}
	for service, info := range s.GetServiceInfo() {
		m.rejected.services[service] = true
		for _, mi := range info.Methods {
			typ := "unary"
			switch {
			case mi.IsClientStream && mi.IsServerStream:
				typ = "bidi_stream"
			case mi.IsClientStream:
				typ = "client_stream"
			case mi.IsServerStream:
				typ = "server_stream"
			}
			labels := []string{typ, service, mi.Name}
			rs := &rpcSeries{
				started:   m.grpcStarted.WithLabelValues(labels...),
				received:  m.grpcReceived.WithLabelValues(labels...),
				sent:      m.grpcSent.WithLabelValues(labels...),
				seconds:   m.grpcSeconds.WithLabelValues(labels...),
				streaming: typ != "unary",
			}
			for c := range rs.handled {
				rs.handled[c] = m.grpcHandled.WithLabelValues(typ, service, mi.Name, codes.Code(c).String())
			}
			m.rpcs["/"+service+"/"+mi.Name] = rs
		}
	}
}

// restChildren looks up the children of a REST request's labels.
func (m *metrics) restChildren(k restKey) restSeries {
	method := strings.ToLower(k.method)
	return restSeries{
		requests: m.httpRequests.WithLabelValues(k.route, method, strconv.Itoa(k.code)),
		duration: m.httpDuration.WithLabelValues(k.route, method),
	}
}

// observeREST counts a REST request and observes its latency d. The
// children of labels not resolved at start-up (an odd method or status)
// are looked up now.
func (m *metrics) observeREST(route, method string, code int, d time.Duration) {
	k := restKey{route, method, code}
	s, ok := m.rest[k]
	if !ok {
		if !slices.Contains(restMethods, method) {
			k.method = "other"
		}
		s = m.restChildren(k)
	}
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

// countingServer counts the translations of the StatusServiceServer it
// wraps.
type countingServer struct {
	tmdbstatusv1.StatusServiceServer
	m *metrics
}

func (s countingServer) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest) (*tmdbstatusv1.TranslateResponse, error) {
	resp, err := s.StatusServiceServer.Translate(ctx, req)
	if err != nil {
		return resp, err
	}
	e, code := resp.GetEntry(), codes.Code(resp.GetStatus().GetCode())
	// A code of TMDB's table always translates to its row's gRPC code.
	if c := s.m.byTMDBCode[e.GetCode()]; c != nil && e.GetGrpcCode() == rpccode.Code(code) {
		c.Inc()
		return resp, nil
	}
	tmdbCode := noTMDBCode
	if e != nil {
		tmdbCode = strconv.Itoa(int(e.GetCode()))
	}
	s.m.translations.WithLabelValues(tmdbCode, code.String()).Inc()
	return resp, nil
}

// The reasons of tmdbstatus_grpc_rejected_total: why grpc-go refused an RPC
// before its handler ran.
const (
	rejectedTooLarge      = "message_too_large" // RESOURCE_EXHAUSTED: over --grpc-max-recv-bytes
	rejectedUndecodable   = "undecodable"       // INTERNAL: not a message of the method's type, or none
	rejectedCompression   = "compression"       // INTERNAL: a compressed message that does not decompress
	rejectedUnknownMethod = "unknown_method"    // UNIMPLEMENTED: a service or method the server does not have
	rejectedDeadline      = "deadline"          // DEADLINE_EXCEEDED: the request message did not come in time
)

// rejections counts the RPCs grpc-go refuses before their handler runs
// (see doc.go).
type rejections struct {
	byReason map[string]prometheus.Counter
	services map[string]bool // the server's, set before it serves
}

func newRejections(f promauto.Factory) *rejections {
	reasons := []string{
		rejectedTooLarge, rejectedUndecodable, rejectedCompression, rejectedUnknownMethod, rejectedDeadline}
	vec := f.NewCounterVec(prometheus.CounterOpts{
		Name: "tmdbstatus_grpc_rejected_total",
		Help: "RPCs refused before their handler ran, by reason: " + strings.Join(reasons, ", ") + ".",
	}, []string{"reason"})
	r := &rejections{byReason: map[string]prometheus.Counter{}}
	for _, reason := range reasons {
		r.byReason[reason] = vec.WithLabelValues(reason)
	}
	return r
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
	var reason string
	switch st.Code() {
	case codes.ResourceExhausted:
		reason = rejectedTooLarge
	case codes.DeadlineExceeded:
		reason = rejectedDeadline
	case codes.Internal:
		reason = rejectedUndecodable
		if strings.Contains(st.Message(), "ompress") { // "grpc: failed to decompress ...", "compressed flag set ..."
			reason = rejectedCompression
		}
	default:
		return // CANCELED is the client going away, no refusal; the rest are the handler's.
	}
	if len(st.Proto().GetDetails()) == 0 {
		r.byReason[reason].Inc()
	}
}

// unknownService answers an RPC of a service or method the server does not
// have as grpc-go does without this handler, and counts it.
func (r *rejections) unknownService(_ any, ss grpc.ServerStream) error {
	r.byReason[rejectedUnknownMethod].Inc()
	method, _ := grpc.MethodFromServerStream(ss)
	i := strings.LastIndex(method, "/") // grpc-go has checked that there is one after the leading one
	service, name := method[1:i], method[i+1:]
	if !r.services[service] {
		return status.Error(codes.Unimplemented, "unknown service "+service)
	}
	return status.Error(codes.Unimplemented, fmt.Sprintf("unknown method %v for service %v", name, service))
}
