package server

import (
	"fmt"
	"math"
)

// fdHeadroom is the open files the connection caps leave to everything
// else: the listeners, stdio, the OTLP exporter's connections, the
// runtime's own files, and room to spare.
const fdHeadroom = 64

// minMaxConnections is the smallest cap connectionCaps derives: below it
// the open-file limit is too low to serve anyone.
const minMaxConnections = 16

// DefaultMaxConnectionsCeiling is the largest cap connectionCaps derives
// from the open-file limit, which containers often set to a million: an
// idle gRPC connection holds about 100 KiB (its buffers, goroutines and
// HPACK tables; measured by the abuse tests), so 1,024 of them are 100 MiB.
// --max-connections sets another cap; the Deployment, whose memory limit
// is 128 MiB, sets 512.
const DefaultMaxConnectionsCeiling = 1024

// connectionCaps returns the cap on the open connections of the gRPC port
// and of the HTTP port (each), and of the admin port (0 without one), so
// that all of them at once, with fdHeadroom, fit nofile, the process's
// open-file limit: a flood of connections on one port cannot take the
// files the others, and /healthz and /metrics, need. Derived, the cap is at
// most DefaultMaxConnectionsCeiling.
func connectionCaps(cfg Config, nofile uint64) (api, admin int, err error) {
	if cfg.AdminAddr != "" {
		admin = cfg.AdminMaxConnections
	}
	limit := int64(min(nofile, math.MaxInt32))
	if cfg.MaxConnections > 0 {
		need := 2*int64(cfg.MaxConnections) + int64(admin) + fdHeadroom
		if need > limit {
			return 0, 0, fmt.Errorf("--max-connections %d: the gRPC and HTTP ports' connections, the admin port's %d and %d other files need %d open files; the limit is %d",
				cfg.MaxConnections, admin, fdHeadroom, need, limit)
		}
		return cfg.MaxConnections, admin, nil
	}
	api = int(min((limit-int64(admin)-fdHeadroom)/2, DefaultMaxConnectionsCeiling))
	if api < minMaxConnections {
		return 0, 0, fmt.Errorf("the open-file limit %d leaves %d connections to the gRPC and HTTP ports; want at least %d: raise it (ulimit -n)", limit, max(api, 0), minMaxConnections)
	}
	return api, admin, nil
}
