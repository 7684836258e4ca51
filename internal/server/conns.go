package server

import (
	"fmt"
	"math"
)

const (
	// fdHeadroom is the open files the connection caps leave to the
	// listeners, stdio, the OTLP exporter and the runtime.
	fdHeadroom = 64

	// maxConnectionsCeiling is the largest cap derived from the open-file
	// limit: about 100 MiB of idle gRPC connections.
	maxConnectionsCeiling = 1024
)

// connectionCaps returns the cap on the open connections of the gRPC port
// and of the HTTP port (each), and of the admin port (0 without one), so
// that all of them, with fdHeadroom, fit nofile, the open-file limit: a
// flood on one port cannot take the files the others need. Derived, the
// cap is at most maxConnectionsCeiling.
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
	const least = 16 // Below it, the open-file limit is too low to serve anyone.
	api = int(min((limit-int64(admin)-fdHeadroom)/2, maxConnectionsCeiling))
	if api < least {
		return 0, 0, fmt.Errorf("the open-file limit %d leaves %d connections to the gRPC and HTTP ports; want at least %d: raise it (ulimit -n)", limit, max(api, 0), least)
	}
	return api, admin, nil
}
