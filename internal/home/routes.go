package home

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tmdbstatus/tmdbstatus/gateway"
)

// route is one REST route of the API: its HTTP method, path template, the
// full name of the RPC it calls and the RPC's proto comment, on one line.
type route struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	RPC         string `json:"rpc"`
	Description string `json:"description"`
}

// routeIndex is the JSON answer at / for clients that do not ask for HTML.
type routeIndex struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Routes      []route `json:"routes"`
	OpenAPI     string  `json:"openapi"`
	Metrics     string  `json:"metrics,omitempty"`
}

// routes returns gateway.Routes, each described by the summary of its
// operation in spec, the OpenAPI description generated from the same proto
// (the Go descriptors do not carry the proto's comments).
func routes(spec []byte) ([]route, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI description: %w", err)
	}
	summaries := make(map[string]string)
	for _, ops := range doc.Paths {
		for _, op := range ops {
			summaries[op.OperationID] = strings.Join(strings.Fields(op.Summary), " ")
		}
	}
	var rs []route
	for _, rt := range gateway.Routes() {
		// protoc-gen-openapiv2's default operationId is Service_Method.
		desc, ok := summaries[string(rt.RPC.Parent().Name())+"_"+string(rt.RPC.Name())]
		if !ok {
			return nil, fmt.Errorf("the OpenAPI description has no operation for %s", rt.RPC)
		}
		rs = append(rs, route{Method: rt.Method, Path: rt.Template, RPC: string(rt.RPC), Description: desc})
	}
	return rs, nil
}
