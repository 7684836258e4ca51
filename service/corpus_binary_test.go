package service_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/testing/protocmp"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// TestCorpusBinary translates every response of testdata/responses through
// the binary, built once and served on loopback, over gRPC and REST, and
// requires from each the answer of the Go API: the TranslateResponse of
// the service in process, whose status is FromResponse's.
func TestCorpusBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	files := corpusFiles(t)
	srv := testutil.StartServe(t, testutil.BuildBinary(t))
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := tmdbstatusv1.NewStatusServiceClient(conn)
	inProcess := service.New()
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			resp := readCase(t, file).Response
			want, err := inProcess.Translate(ctx(t), resp.request(t))
			if err != nil {
				t.Fatalf("Translate in process: %v", err)
			}
			if diff := cmp.Diff(service.FromResponse(resp.httpResponse(t)).Proto(), want.GetStatus(), protocmp.Transform()); diff != "" {
				t.Fatalf("Translate in process differs from FromResponse (-FromResponse +Translate):\n%s", diff)
			}
			check := func(via string, got *tmdbstatusv1.TranslateResponse) {
				t.Helper()
				if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
					t.Errorf("%s: the binary's answer differs from the Go API's (-want +got):\n%s", via, diff)
				}
			}
			got, err := client.Translate(ctx(t), resp.request(t))
			if err != nil {
				t.Fatalf("gRPC Translate: %v", err)
			}
			check("gRPC", got)
			check("REST", translateREST(t, "http://"+srv.HTTPAddr, resp.request(t)))
		})
	}
}
