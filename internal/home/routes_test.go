package home

import (
	"strings"
	"testing"
)

// TestRoutesNeedTheirDescriptions checks that routes fails, rather than
// lists a route without a description, when the OpenAPI description lacks
// an operation or does not parse.
func TestRoutesNeedTheirDescriptions(t *testing.T) {
	tests := []struct{ spec, wantErr string }{
		{`{"paths": {}}`, "no operation for tmdbstatus.v1.StatusService.Lookup"},
		{`{"paths": {"/v1/statuses/{code}": {"get": {"operationId": "StatusService_Lookup", "summary": "Lookup"}}}}`,
			"no operation for tmdbstatus.v1.StatusService.ListStatuses"},
		{`not JSON`, "reading the OpenAPI description"},
	}
	for _, tt := range tests {
		rs, err := routes([]byte(tt.spec))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("routes(spec %s) = %v, %v; want an error with %q", tt.spec, rs, err, tt.wantErr)
		}
	}
}
