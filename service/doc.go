// Package service is tmdbstatus's translation of TMDB API answers into
// canonical gRPC statuses, and the StatusService gRPC server over it.
//
// The table is TMDB's list of status codes, read once at start-up from the
// (tmdbstatus.v1.status) options of the TmdbStatus enum: the proto is its one
// source. Go callers use it in-process with Lookup, Entries, Translate and
// Error; the gRPC handlers of Server are a thin layer over the same code.
package service
