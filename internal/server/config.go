package server

import (
	"log/slog"
	"time"
)

// Defaults of Config, which DefaultConfig returns: those of `tmdbstatus
// serve` without flags or environment.
const (
	DefaultGRPCAddr = ":9090"
	DefaultHTTPAddr = ":8080"

	// DefaultMaxMessageBytes is the largest gRPC message and REST body
	// accepted: grpc-go's own default, so that both transports refuse the
	// same requests.
	DefaultMaxMessageBytes = 4 << 20

	// A REST body is at most 4 MiB and every RPC answers from memory:
	// seconds are plenty to read and write one. The write timeout runs
	// from the end of the headers, as the read timeout does, and is longer
	// by enough to answer a body that took the whole read timeout with its
	// 4xx: at equal timeouts the answer races the write deadline.
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = DefaultReadTimeout + 5*time.Second
	DefaultIdleTimeout       = time.Minute

	// DefaultHTTPMaxHeaderBytes bounds a REST request's header block
	// (net/http's default is 1 MiB): the API reads no header but
	// Content-Type, Accept and traceparent.
	DefaultHTTPMaxHeaderBytes = 16 << 10

	// DefaultRequestTimeout bounds an RPC from the moment its stream
	// opens, before its request message has arrived: every handler
	// answers from memory, so the time is the client's to send its
	// request. It is shorter than DefaultShutdownGrace, so that a drain
	// never waits for a request that does not come.
	DefaultRequestTimeout = 5 * time.Second

	// grpc-go serves any number of streams on a connection, each with a
	// goroutine, and accepts 16 MiB of header list a stream: a few
	// megabytes of HEADERS then hold gigabytes. 100 streams is what
	// HTTP/2 recommends as the least a server allows, and a request of
	// this API carries a few hundred bytes of metadata.
	DefaultMaxConcurrentStreams = 100
	DefaultMaxHeaderListBytes   = 8 << 10

	// DefaultConnectionTimeout bounds a gRPC connection's TLS handshake
	// and HTTP/2 preface (grpc-go's default is 2 minutes), and
	// DefaultMaxConnectionIdle closes a connection without an RPC for that
	// long: neither holds one of the capped connections for long.
	DefaultConnectionTimeout = 5 * time.Second
	DefaultMaxConnectionIdle = time.Minute

	// DefaultAdminMaxConnections caps the connections of the admin port:
	// kubelet's probes and a few scrapers. The API ports share what the
	// open-file limit leaves (see Config.MaxConnections).
	DefaultAdminMaxConnections = 32

	// DefaultReflection serves gRPC server reflection: the contract is
	// public (proto/ and /openapi.json), and grpcurl needs it to call the
	// server without the protos. A deployment that wants no stream without
	// a deadline turns it off.
	DefaultReflection = true

	// Clients may ping every 30 s, even between RPCs (grpc-go's default
	// refuses pings more often than every 5 minutes); the server pings a
	// connection idle for a minute and closes it if the ping is not
	// answered within 20 s, which frees connections whose peer is gone.
	DefaultKeepaliveMinTime = 30 * time.Second
	DefaultKeepaliveTime    = time.Minute
	DefaultKeepaliveTimeout = 20 * time.Second

	// A gRPC client keeps its connections, so pods the autoscaler adds
	// would get no RPC from clients already connected: after 5 minutes
	// (±10 %, grpc-go's jitter, so that connections do not all go at once)
	// a connection is sent a GOAWAY and the client reconnects, through the
	// Service, to any pod. The RPCs in flight on it have the shutdown
	// grace to finish: every RPC answers from memory in microseconds.
	DefaultMaxConnectionAge      = 5 * time.Minute
	DefaultMaxConnectionAgeGrace = DefaultShutdownGrace

	// DefaultShutdownGrace lets the servers drain within 10 s, well inside
	// Kubernetes' default termination grace period of 30 s.
	DefaultShutdownGrace = 10 * time.Second
)

// Config is what the servers run with: one field per setting, each the
// value of one flag of `tmdbstatus serve`. Its zero value is not usable:
// start from DefaultConfig.
type Config struct {
	GRPCAddr  string // Listen address of the gRPC server.
	HTTPAddr  string // Listen address of the REST/JSON gateway.
	AdminAddr string // Listen address of /metrics and the health endpoints; "" serves them on HTTPAddr.

	LogFormat string     // "text" or "json".
	LogLevel  slog.Level // Debug logs one line per request.

	GRPCMaxRecvBytes int   // Largest gRPC message received.
	HTTPMaxBodyBytes int64 // Largest REST request body.

	RequestTimeout       time.Duration // Time a unary RPC has from the moment its stream opens.
	MaxConcurrentStreams uint32        // Streams a gRPC connection may have open at once.
	MaxHeaderListBytes   uint32        // Largest header list of a gRPC request.
	ConnectionTimeout    time.Duration // Time a new gRPC connection has to finish its handshakes.
	MaxConnectionIdle    time.Duration // Time without an RPC after which a gRPC connection is closed.
	Reflection           bool          // Serve gRPC server reflection.

	// MaxConnections caps the open connections of the gRPC port and of
	// the HTTP port, each; past it a new connection waits in the kernel's
	// backlog until one closes. 0 derives it from the process's open-file
	// limit at start-up, leaving room for the admin port and other files,
	// and at most DefaultMaxConnectionsCeiling.
	MaxConnections      int
	AdminMaxConnections int // Cap on the open connections of the admin port.

	HTTPMaxHeaderBytes int // Largest header block of a REST request.
	ReadHeaderTimeout  time.Duration
	ReadTimeout        time.Duration
	WriteTimeout       time.Duration
	IdleTimeout        time.Duration
	KeepaliveMinTime   time.Duration // Shortest interval between a client's pings.
	KeepaliveTime      time.Duration // Idle time after which the server pings a client.
	KeepaliveTimeout   time.Duration // Time the server waits for its ping's answer.

	MaxConnectionAge      time.Duration // Age (±10 %) at which a gRPC connection is sent a GOAWAY.
	MaxConnectionAgeGrace time.Duration // Time the RPCs in flight on it then have before it is closed.

	TLSCert     string // PEM certificate file; "" serves without TLS.
	TLSKey      string // PEM key file of TLSCert.
	TLSClientCA string // PEM CA file; "" accepts clients without a certificate.

	ShutdownDelay time.Duration // Time between readiness going false and the servers stopping.
	ShutdownGrace time.Duration // Time the requests in flight have to finish.
}

// DefaultConfig returns the configuration of `tmdbstatus serve` without
// flags or environment.
func DefaultConfig() Config {
	return Config{
		GRPCAddr:         DefaultGRPCAddr,
		HTTPAddr:         DefaultHTTPAddr,
		LogFormat:        "text",
		LogLevel:         slog.LevelInfo,
		GRPCMaxRecvBytes: DefaultMaxMessageBytes,
		HTTPMaxBodyBytes: DefaultMaxMessageBytes,

		RequestTimeout:       DefaultRequestTimeout,
		MaxConcurrentStreams: DefaultMaxConcurrentStreams,
		MaxHeaderListBytes:   DefaultMaxHeaderListBytes,
		ConnectionTimeout:    DefaultConnectionTimeout,
		MaxConnectionIdle:    DefaultMaxConnectionIdle,
		Reflection:           DefaultReflection,
		AdminMaxConnections:  DefaultAdminMaxConnections,
		HTTPMaxHeaderBytes:   DefaultHTTPMaxHeaderBytes,

		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		KeepaliveMinTime:  DefaultKeepaliveMinTime,
		KeepaliveTime:     DefaultKeepaliveTime,
		KeepaliveTimeout:  DefaultKeepaliveTimeout,
		ShutdownGrace:     DefaultShutdownGrace,

		MaxConnectionAge:      DefaultMaxConnectionAge,
		MaxConnectionAgeGrace: DefaultMaxConnectionAgeGrace,
	}
}
