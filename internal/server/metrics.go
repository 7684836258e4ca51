package server

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/tmdbstatus/tmdbstatus/gateway"
	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// The metrics are written here rather than with go-grpc-middleware's
// Prometheus provider and promhttp's instrumentation, under the same names
// and labels, because those build their label values and look their
// children up on every request; here every child a request can touch is
// resolved once, at start-up, and a request only increments and observes.

// metrics are the Prometheus metrics of one serve: its own registry, not
// the global one, so that tests can run servers side by side.
type metrics struct {
	registry *prometheus.Registry

	grpcStarted, grpcHandled, grpcReceived, grpcSent *prometheus.CounterVec
	grpcSeconds                                      *prometheus.HistogramVec
	rpcs                                             map[string]*rpcSeries // by full method name, resolved at start-up
	rejected                                         *rejections

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	rest         map[restKey]restSeries

	// Translations by TMDB code and resulting gRPC code, over both
	// transports.
	translations *prometheus.CounterVec
	byTMDBCode   map[int32]prometheus.Counter // the table's codes, with their rows' gRPC codes
}

// latencyBuckets are the buckets of both latency histograms: 100 µs to
// about 26 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 4, 10)

// rpcSeries are the children of one gRPC method.
type rpcSeries struct {
	started, received, sent prometheus.Counter
	handled                 [codes.Unauthenticated + 1]prometheus.Counter
	seconds                 prometheus.Observer
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
// route: a path the API does not have, a method the path does not allow,
// a body over the limit; the others are the API's path templates.
const routeOther = "other"

// noTMDBCode is the tmdb_code label of a translation without an entry in
// TMDB's table: no status code was given, or one the table does not define.
const noTMDBCode = "none"

func newMetrics() *metrics {
	rpcLabels := []string{"grpc_type", "grpc_service", "grpc_method"}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		grpcStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_started_total", Help: "Total number of RPCs started on the server.",
		}, rpcLabels),
		grpcHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total", Help: "Total number of RPCs completed on the server, regardless of success or failure.",
		}, append(rpcLabels, "grpc_code")),
		grpcReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_received_total", Help: "Total number of RPC stream messages received on the server.",
		}, rpcLabels),
		grpcSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_sent_total", Help: "Total number of gRPC stream messages sent by the server.",
		}, rpcLabels),
		grpcSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grpc_server_handling_seconds", Help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: latencyBuckets,
		}, rpcLabels),
		rpcs:     map[string]*rpcSeries{},
		rejected: newRejections(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "REST requests completed, by route, method and HTTP status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Latency of REST requests, by route and method.",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
		rest: map[restKey]restSeries{},
		translations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tmdbstatus_translations_total",
			Help: "Translations of TMDB answers, over gRPC and REST, by TMDB status code (" +
				noTMDBCode + " when it is not in TMDB's table) and resulting gRPC code.",
		}, []string{"tmdb_code", "grpc_code"}),
		byTMDBCode: map[int32]prometheus.Counter{},
	}
	// Every row of the table starts at zero, so that rates exist from the
	// first scrape on.
	for _, e := range service.Entries() {
		m.byTMDBCode[e.TMDBCode()] = m.translations.WithLabelValues(strconv.Itoa(int(e.TMDBCode())), e.Code.String())
	}
	m.resolveREST()
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.grpcStarted, m.grpcHandled, m.grpcReceived, m.grpcSent, m.grpcSeconds, m.rejected.vec,
		m.httpRequests, m.httpDuration, m.translations,
	)
	return m
}

// handler serves the metrics in Prometheus' exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// resolveGRPC resolves the children of every method s serves, each code
// of grpc_server_handled_total at zero, as go-grpc-middleware's
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
			m.rpcs["/"+service+"/"+mi.Name] = m.newRPCSeries(typ, service, mi.Name)
		}
	}
}

func (m *metrics) newRPCSeries(typ, service, method string) *rpcSeries {
	rs := &rpcSeries{
		started:  m.grpcStarted.WithLabelValues(typ, service, method),
		received: m.grpcReceived.WithLabelValues(typ, service, method),
		sent:     m.grpcSent.WithLabelValues(typ, service, method),
		seconds:  m.grpcSeconds.WithLabelValues(typ, service, method),
	}
	for c := range rs.handled {
		rs.handled[c] = m.grpcHandled.WithLabelValues(typ, service, method, codes.Code(c).String())
	}
	return rs
}

// restMethods are the methods whose label is their own; any other is
// counted as "other", so that a client cannot make new series at will.
var restMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// resolveREST resolves the children of the requests the gateway answers:
// each route with its method and the statuses it can answer, and the
// requests it does not route with the statuses it refuses them with.
func (m *metrics) resolveREST() {
	for _, rt := range gateway.Routes() {
		for _, code := range []int{200, 400, 404, 415, 500} {
			m.restSeries(rt.Template, rt.Method, code)
		}
	}
	for _, method := range restMethods {
		for _, code := range []int{400, 404, 405, 413} {
			m.restSeries(routeOther, method, code)
		}
	}
}

// restSeries resolves the children of a request and keeps them.
func (m *metrics) restSeries(route, method string, code int) restSeries {
	s := restSeries{
		requests: m.httpRequests.WithLabelValues(route, strings.ToLower(method), strconv.Itoa(code)),
		duration: m.httpDuration.WithLabelValues(route, strings.ToLower(method)),
	}
	m.rest[restKey{route, method, code}] = s
	return s
}

// observeREST counts a REST request and observes its latency d. A request
// whose labels were not resolved at start-up (an odd method or status)
// has its children looked up now.
func (m *metrics) observeREST(route, method string, code int, d time.Duration) {
	s, ok := m.rest[restKey{route, method, code}]
	if !ok {
		if !isRESTMethod(method) {
			method = "other"
		}
		s = restSeries{
			requests: m.httpRequests.WithLabelValues(route, strings.ToLower(method), strconv.Itoa(code)),
			duration: m.httpDuration.WithLabelValues(route, strings.ToLower(method)),
		}
	}
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

func isRESTMethod(method string) bool {
	for _, m := range restMethods {
		if m == method {
			return true
		}
	}
	return false
}

// captureVariable matches a variable of grpc-gateway's pattern syntax
// ("{code=*}"), written "{code}" in the API's templates.
var captureVariable = regexp.MustCompile(`\{([^=}]+)=\*\}`)

// labelRoutes is a gateway middleware: it tells the REST observer the
// route of each request the gateway routes, and names its span by route.
// grpc-gateway calls a middleware once per route as it registers it, so
// the label is found once per route, at its first request: from
// runtime.HTTPPattern, as runtime.HTTPPathPattern is set only within the
// generated handler.
func labelRoutes(next runtime.HandlerFunc) runtime.HandlerFunc {
	var route atomic.Pointer[gateway.Route]
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		rt := route.Load()
		if rt == nil {
			rt = routeOf(r.Context())
			route.Store(rt)
		}
		if rec, ok := w.(*restRecorder); ok {
			rec.route = rt.Template
			rec.spanName(rt)
		}
		next(w, r, pathParams)
	}
}

// routeOf returns the route of the pattern the gateway matched.
func routeOf(ctx context.Context) *gateway.Route {
	p, _ := runtime.HTTPPattern(ctx)
	template := captureVariable.ReplaceAllString(p.String(), "{$1}")
	for _, rt := range gateway.Routes() {
		if rt.Template == template {
			return &rt
		}
	}
	return &gateway.Route{Template: template}
}

// countTranslations returns srv, counting its translations in m. Both the
// gRPC server and the REST gateway call the server it returns, so each
// translation counts once, whatever its transport.
func (m *metrics) countTranslations(srv tmdbstatusv1.StatusServiceServer) tmdbstatusv1.StatusServiceServer {
	return countingServer{StatusServiceServer: srv, m: m}
}

// countingServer is a StatusServiceServer that counts the translations of
// the one it wraps.
type countingServer struct {
	tmdbstatusv1.StatusServiceServer
	m *metrics
}

func (s countingServer) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest) (*tmdbstatusv1.TranslateResponse, error) {
	resp, err := s.StatusServiceServer.Translate(ctx, req)
	if err == nil {
		e := resp.GetEntry()
		// A code of TMDB's table always translates to its row's gRPC code.
		if c := s.m.byTMDBCode[e.GetCode()]; c != nil && e.GetGrpcCode() == rpccode.Code(resp.GetStatus().GetCode()) {
			c.Inc()
			return resp, err
		}
		tmdbCode := noTMDBCode
		if e != nil {
			tmdbCode = strconv.Itoa(int(e.GetCode()))
		}
		s.m.translations.WithLabelValues(tmdbCode, codes.Code(resp.GetStatus().GetCode()).String()).Inc()
	}
	return resp, err
}
