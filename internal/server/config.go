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
// serve`, which its tags declare (kong's, and min: the least value). Its
// zero value is not usable: start from DefaultConfig.
type Config struct {
	GRPCAddr  string `help:"Listen address of the gRPC server." min:"1"`
	HTTPAddr  string `help:"Listen address of the REST/JSON gateway, /healthz, /readyz, /openapi.json and, without --admin-addr, /metrics." min:"1"`
	AdminAddr string `help:"Listen address of /metrics, /healthz, /readyz and pprof on a port of their own; empty, /metrics is served on --http-addr." placeholder:"ADDRESS"`

	LogFormat string     `help:"Log format: text or json."`
	LogLevel  slog.Level `help:"Log level: debug (one line per request), info, warn or error."`

	GRPCMaxRecvBytes int   `name:"grpc-max-recv-bytes" help:"Largest gRPC message received, in bytes." min:"1"`
	HTTPMaxBodyBytes int64 `name:"http-max-body-bytes" help:"Largest REST request body, in bytes." min:"1"`

	RequestTimeout       time.Duration `help:"Time a unary gRPC call has from the moment its stream opens, its request included; streaming calls (health's Watch, reflection) have none." min:"1ns"`
	MaxConcurrentStreams uint32        `name:"grpc-max-concurrent-streams" help:"Streams a gRPC connection may have open at once." min:"1"`
	MaxHeaderListBytes   uint32        `name:"grpc-max-header-list-bytes" help:"Largest header list (metadata) of a gRPC request, in bytes." min:"1024"`
	ConnectionTimeout    time.Duration `name:"grpc-connection-timeout" help:"Time a new gRPC connection has for its TLS handshake and HTTP/2 preface." min:"1ns"`
	MaxConnectionIdle    time.Duration `name:"grpc-max-connection-idle" help:"Time without a call after which a gRPC connection is sent a GOAWAY and closed." min:"1ns"`
	Reflection           bool          `help:"Serve gRPC server reflection, which grpcurl uses to call the server without its protos." negatable:""`

	MaxConnections      int `help:"Cap on the open connections of the gRPC port and of the HTTP port, each; 0 derives it from the open-file limit, leaving room for the admin port, at most 1024." min:"0"`
	AdminMaxConnections int `help:"Cap on the open connections of --admin-addr, reserved for probes and scrapers." min:"1"`

	HTTPMaxHeaderBytes int           `name:"http-max-header-bytes" help:"Largest header block of a REST request, in bytes." min:"1024"`
	ReadHeaderTimeout  time.Duration `name:"http-read-header-timeout" help:"Time to read a REST request's headers." min:"1ns"`
	ReadTimeout        time.Duration `name:"http-read-timeout" help:"Time to read a whole REST request." min:"1ns"`
	WriteTimeout       time.Duration `name:"http-write-timeout" help:"Time to write a REST response, from the end of the request's headers; longer than --http-read-timeout." min:"1ns"`
	IdleTimeout        time.Duration `name:"http-idle-timeout" help:"Time an idle keep-alive REST connection is kept." min:"1ns"`
	KeepaliveMinTime   time.Duration `name:"grpc-keepalive-min-time" help:"Shortest interval between a gRPC client's keepalive pings; a client pinging more often is disconnected." min:"1ns"`
	KeepaliveTime      time.Duration `name:"grpc-keepalive-time" help:"Idle time after which the server pings a gRPC client." min:"1ns"`
	KeepaliveTimeout   time.Duration `name:"grpc-keepalive-timeout" help:"Time a gRPC client has to answer the server's ping before it is disconnected." min:"1ns"`

	MaxConnectionAge      time.Duration `name:"grpc-max-connection-age" help:"Age (plus or minus 10%) at which a gRPC connection is sent a GOAWAY, so that clients reconnect and new replicas get their share." min:"1ns"`
	MaxConnectionAgeGrace time.Duration `name:"grpc-max-connection-age-grace" help:"Time the RPCs in flight on a connection past --grpc-max-connection-age have to finish before it is closed." min:"1ns"`

	TLSCert     string `name:"tls-cert" help:"PEM certificate file (chain) to serve TLS with on every port; needs --tls-key." placeholder:"FILE" and:"tls-pair"`
	TLSKey      string `name:"tls-key" help:"PEM private key file of --tls-cert." placeholder:"FILE" and:"tls-pair"`
	TLSClientCA string `name:"tls-client-ca" help:"PEM CA certificates file: gRPC and REST clients must present a certificate it signed (mutual TLS); needs --tls-cert." placeholder:"FILE"`

	ShutdownDelay time.Duration `help:"On SIGTERM, time to keep serving while not ready, for load balancers to notice, before draining." min:"0s"`
	ShutdownGrace time.Duration `help:"On SIGTERM, time the requests in flight have to finish before they are cut." min:"1ns"`
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
