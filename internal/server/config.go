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
	// seconds are plenty to read and write one.
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = 15 * time.Second
	DefaultIdleTimeout       = time.Minute

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

	GRPCMaxRecvBytes  int   // Largest gRPC message received.
	HTTPMaxBodyBytes  int64 // Largest REST request body.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	KeepaliveMinTime  time.Duration // Shortest interval between a client's pings.
	KeepaliveTime     time.Duration // Idle time after which the server pings a client.
	KeepaliveTimeout  time.Duration // Time the server waits for its ping's answer.

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
		GRPCAddr:          DefaultGRPCAddr,
		HTTPAddr:          DefaultHTTPAddr,
		LogFormat:         "text",
		LogLevel:          slog.LevelInfo,
		GRPCMaxRecvBytes:  DefaultMaxMessageBytes,
		HTTPMaxBodyBytes:  DefaultMaxMessageBytes,
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
