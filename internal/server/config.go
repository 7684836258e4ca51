package server

import (
	"log/slog"
	"time"
)

// Defaults of Config that other code needs; docs/operating.md gives the
// reason for every default.
const (
	// DefaultGRPCAddr is the default listen address of the gRPC server.
	DefaultGRPCAddr = ":9090"

	// DefaultMaxMessageBytes is the largest gRPC message and REST body
	// accepted: grpc-go's default, so that both transports refuse the same.
	DefaultMaxMessageBytes = 4 << 20
)

// Config is what the servers run with: one field per flag of `tmdbstatus
// serve`. Its zero value is not usable: start from DefaultConfig.
type Config struct {
	GRPCAddr  string // Listen address of the gRPC server.
	HTTPAddr  string // Listen address of the REST/JSON gateway.
	AdminAddr string // Listen address of /metrics, health and pprof; "" serves the first two on HTTPAddr.

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

	// MaxConnections caps the open connections of the gRPC port and of the
	// HTTP port, each; 0 derives it from the open-file limit (see connectionCaps).
	MaxConnections      int
	AdminMaxConnections int // Cap on the open connections of the admin port.

	HTTPMaxHeaderBytes int           // Largest header block of a REST request.
	ReadHeaderTimeout  time.Duration // Time to read a REST request's headers.
	ReadTimeout        time.Duration // Time to read a whole REST request.
	WriteTimeout       time.Duration // Time to write a REST response, from the end of its request's headers.
	IdleTimeout        time.Duration // Time an idle keep-alive REST connection is kept.
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
	const grace = 10 * time.Second
	return Config{
		GRPCAddr:         DefaultGRPCAddr,
		HTTPAddr:         ":8080",
		LogFormat:        "text",
		LogLevel:         slog.LevelInfo,
		GRPCMaxRecvBytes: DefaultMaxMessageBytes,
		HTTPMaxBodyBytes: DefaultMaxMessageBytes,

		RequestTimeout:       5 * time.Second, // Shorter than the grace: a drain never waits for a request.
		MaxConcurrentStreams: 100,
		MaxHeaderListBytes:   8 << 10,
		ConnectionTimeout:    5 * time.Second,
		MaxConnectionIdle:    time.Minute,
		Reflection:           true,
		AdminMaxConnections:  32,

		HTTPMaxHeaderBytes: 16 << 10,
		ReadHeaderTimeout:  5 * time.Second,
		ReadTimeout:        15 * time.Second,
		WriteTimeout:       20 * time.Second, // Longer than ReadTimeout, to answer a slow body's 4xx.
		IdleTimeout:        time.Minute,
		KeepaliveMinTime:   30 * time.Second,
		KeepaliveTime:      time.Minute,
		KeepaliveTimeout:   20 * time.Second,

		MaxConnectionAge:      5 * time.Minute,
		MaxConnectionAgeGrace: grace,
		ShutdownGrace:         grace,
	}
}
