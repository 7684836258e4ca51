// Package examples holds clients of tmdbstatus in other languages, each a short use of its
// language's package in clients/: node/ (Node.js, with @grpc/grpc-js) and python/ (grpcio).
// Its test starts the real binary on loopback, runs both against it and requires the Go
// API's answers.
package examples
