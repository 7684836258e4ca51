// Package examples holds clients of tmdbstatus in other languages: node/ (Node.js, with
// @grpc/grpc-js and @grpc/proto-loader) and python/ (grpcio and grpcio-tools). Its test
// starts the real binary on loopback and runs both against it.
package examples
