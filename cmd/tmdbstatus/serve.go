package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// serveCmd is `tmdbstatus serve`: server.Config's fields, with its defaults
// (see withDefaults); min is the least value a flag takes.
type serveCmd struct {
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

// check checks what involves more than one flag.
func (c *serveCmd) check() error {
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	case c.WriteTimeout <= c.ReadTimeout:
		// A request that takes the whole read timeout still gets its answer.
		return fmt.Errorf("--http-write-timeout %v: must be longer than --http-read-timeout (%v)", c.WriteTimeout, c.ReadTimeout)
	case c.TLSClientCA != "" && c.TLSCert == "":
		return errors.New("--tls-client-ca needs --tls-cert")
	}
	return nil
}

// Run serves until ctx is done; a setting server.Run cannot use is a usage error.
func (c *serveCmd) Run(ctx context.Context, now <-chan struct{}, std *stdio) error {
	err := server.Run(ctx, now, server.Config(*c), os.Getenv, std.stderr)
	if _, ok := errors.AsType[*server.ConfigError](err); ok {
		return usageError{err}
	}
	return err
}
