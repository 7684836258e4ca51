package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/server"
	"github.com/tmdbstatus/tmdbstatus/internal/tlsconfig"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// clientFlags are the flags of the commands that call StatusService.
type clientFlags struct {
	Addr    string        `default:"${client_addr}" help:"gRPC address of the tmdbstatus server." min:"1"`
	Timeout time.Duration `default:"10s" help:"How long the RPC may take." min:"1ns"`
	JSON    bool          `name:"json" help:"Print the answer as JSON (protojson, as the REST API writes it)."`
	Offline bool          `help:"Answer in-process, with no server: --addr, --timeout and --tls* are ignored."`
	TLS     bool          `name:"tls" help:"Connect with TLS, verifying the server with the system's CAs (implied by --tls-ca and --tls-cert)."`
	TLSCA   string        `name:"tls-ca" help:"PEM file of the CA certificates to verify the server with, instead of the system's." placeholder:"FILE"`
	TLSCert string        `name:"tls-cert" help:"PEM file of the client certificate to present (mutual TLS); needs --tls-key." placeholder:"FILE" and:"tls-pair"`
	TLSKey  string        `name:"tls-key" help:"PEM file of the private key of --tls-cert." placeholder:"FILE" and:"tls-pair"`
}

// lookupCmd is `tmdbstatus lookup CODE`.
type lookupCmd struct {
	clientFlags `embed:""`
	Code        int32 `arg:"" help:"The TMDB status code; one TMDB does not define is an error."`
}

// listCmd is `tmdbstatus list`.
type listCmd struct {
	clientFlags `embed:""`
}

// translateCmd is `tmdbstatus translate`.
type translateCmd struct {
	clientFlags `embed:""`
	HTTPStatus  int      `name:"http-status" help:"The HTTP status of TMDB's response." placeholder:"STATUS"`
	RetryAfter  string   `help:"The Retry-After header of TMDB's response: seconds or an HTTP-date." placeholder:"DELAY"`
	Header      []string `help:"A header of TMDB's response, as 'Name: value'; once per header." placeholder:"'NAME: VALUE'" sep:"none"`
	BodyFile    string   `help:"File of TMDB's response body, read instead of stdin." placeholder:"FILE"`
}

// Run prints the table entry of c.Code.
func (c *lookupCmd) Run(ctx context.Context, std *stdio) error {
	return c.call(ctx, std, func(ctx context.Context, sc tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
		return sc.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: c.Code})
	})
}

// Run prints TMDB's table.
func (c *listCmd) Run(ctx context.Context, std *stdio) error {
	return c.call(ctx, std, func(ctx context.Context, sc tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
		return sc.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{})
	})
}

// check checks the HTTP status and the headers.
func (c *translateCmd) check() error {
	if c.HTTPStatus != 0 && (c.HTTPStatus < 100 || c.HTTPStatus > 599) {
		return fmt.Errorf("--http-status %d: not an HTTP status (100 to 599)", c.HTTPStatus)
	}
	for _, h := range c.Header {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("--header %q: want 'Name: value'", h)
		}
	}
	return nil
}

// Run prints the translation: a TMDB failure is its output, not an error.
func (c *translateCmd) Run(ctx context.Context, std *stdio) error {
	req, err := c.request(std)
	if err != nil {
		return err
	}
	return c.call(ctx, std, func(ctx context.Context, sc tmdbstatusv1.StatusServiceClient) (proto.Message, error) {
		return sc.Translate(ctx, req)
	})
}

// request builds the request, its body read from c.BodyFile or stdin.
func (c *translateCmd) request(std *stdio) (*tmdbstatusv1.TranslateRequest, error) {
	req := &tmdbstatusv1.TranslateRequest{HttpStatus: int32(c.HTTPStatus), RetryAfter: c.RetryAfter}
	if v := strings.TrimSpace(c.RetryAfter); strings.Trim(v, "0123456789") != "" {
		if _, err := http.ParseTime(v); err != nil {
			fmt.Fprintf(std.stderr, "tmdbstatus translate: warning: --retry-after %q is neither seconds nor an HTTP-date: it is ignored\n", c.RetryAfter)
		}
	}
	for _, h := range c.Header {
		name, value, _ := strings.Cut(h, ":")
		req.Headers = append(req.Headers, &tmdbstatusv1.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	body, from := std.stdin, "stdin"
	if c.BodyFile != "" {
		f, err := os.Open(c.BodyFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--body-file: %w", err)}
		}
		defer f.Close()
		body, from = f, c.BodyFile
	} else if f, ok := body.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return nil, usageError{errors.New("nothing to translate: pipe TMDB's response body to stdin, or give --body-file (</dev/null for none)")}
	}
	// At most what the REST gateway and a grpc-go server accept.
	const limit = server.DefaultMaxMessageBytes
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the body from %s: %w", from, err)
	}
	if len(b) > limit {
		return nil, usageError{fmt.Errorf("body of %s larger than %d bytes", from, limit)}
	}
	req.BodyBytes = b
	return req, nil
}

// call calls rpc, over gRPC or in-process, and prints its answer.
func (c *clientFlags) call(ctx context.Context, std *stdio, rpc func(context.Context, tmdbstatusv1.StatusServiceClient) (proto.Message, error)) error {
	var client tmdbstatusv1.StatusServiceClient = offlineClient{service.New()}
	if !c.Offline {
		creds := insecure.NewCredentials()
		if c.TLS || c.TLSCA != "" || c.TLSCert != "" {
			tc, err := tlsconfig.Client(tlsconfig.Files{Cert: c.TLSCert, Key: c.TLSKey, CA: c.TLSCA, CAFlag: "--tls-ca"})
			if err != nil {
				return usageError{err}
			}
			creds = credentials.NewTLS(tc)
		}
		conn, err := grpc.NewClient(c.Addr, grpc.WithTransportCredentials(creds))
		if err != nil { // Only for an address grpc cannot parse.
			return usageError{fmt.Errorf("--addr %q: %w", c.Addr, err)}
		}
		defer conn.Close()
		client = tmdbstatusv1.NewStatusServiceClient(conn)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	resp, err := rpc(ctx, client)
	if err != nil {
		return c.rpcError(err)
	}
	if c.JSON {
		b, err := protojson.MarshalOptions{Multiline: true, EmitDefaultValues: true}.Marshal(resp)
		if err != nil {
			return fmt.Errorf("encode the answer: %w", err)
		}
		_, err = fmt.Fprintf(std.stdout, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(std.stdout, 0, 0, 2, ' ', 0)
	switch resp := resp.(type) {
	case *tmdbstatusv1.LookupResponse:
		writeEntries(tw, resp.GetEntry())
	case *tmdbstatusv1.ListStatusesResponse:
		writeEntries(tw, resp.GetEntries()...)
	case *tmdbstatusv1.TranslateResponse:
		writeTranslation(tw, resp)
	}
	return tw.Flush()
}

// hints are for the transport failures a flag fixes, by grpc-go's message.
var hints = []struct{ cause, hint string }{
	{"connection refused", `nothing listens at %s: is "tmdbstatus serve" running? --addr or TMDBSTATUS_ADDR names its gRPC address`},
	{"first record does not look like a TLS handshake", "the server at %s does not speak TLS: drop --tls, --tls-ca and --tls-cert"},
	{"error reading server preface", "the server at %s closed the connection: if it speaks TLS, add --tls, or --tls-ca with its CA"},
	{"certificate signed by unknown authority", "the server at %s has a certificate the system's CAs do not know: give its CA with --tls-ca"},
}

// rpcError returns err as "CODE: message", or a hint for a connection that failed.
func (c *clientFlags) rpcError(err error) error {
	st := status.Convert(err)
	msg := st.Message()
	if st.Code() == codes.Unavailable {
		for _, h := range hints {
			if strings.Contains(msg, h.cause) {
				msg = fmt.Sprintf(h.hint, c.Addr)
				break
			}
		}
	}
	return fmt.Errorf("%s: %s", code.Code(st.Code()), msg)
}

// writeEntries writes entries as a table, one row each, under a header.
func writeEntries(w io.Writer, entries ...*tmdbstatusv1.StatusEntry) {
	fmt.Fprintln(w, "CODE\tHTTP\tGRPC CODE\tREASON\tRETRYABLE\tMESSAGE")
	for _, e := range entries {
		fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\n",
			e.GetCode(), e.GetHttpStatus(), e.GetGrpcCode(), e.GetReason(), yesNo(e.GetRetryable()), e.GetMessage())
	}
}

// writeTranslation writes a translation: one line per field and detail.
func writeTranslation(w io.Writer, resp *tmdbstatusv1.TranslateResponse) {
	st := resp.GetStatus()
	fmt.Fprintf(w, "code\t%s\n", code.Code(st.GetCode()))
	fmt.Fprintf(w, "message\t%s\n", st.GetMessage())
	d := service.Details(status.FromProto(st))
	if ei := d.ErrorInfo; ei != nil {
		fmt.Fprintf(w, "reason\t%s\ndomain\t%s\n", ei.GetReason(), ei.GetDomain())
		for _, k := range slices.Sorted(maps.Keys(ei.GetMetadata())) {
			fmt.Fprintf(w, "metadata\t%s=%s\n", k, ei.GetMetadata()[k])
		}
	}
	if d.RetryInfo != nil {
		fmt.Fprintf(w, "retry after\t%v\n", roundDelay(d.RetryInfo.GetRetryDelay().AsDuration()))
	}
	for _, v := range d.QuotaFailure.GetViolations() {
		fmt.Fprintf(w, "quota failure\t%s: %s\n", v.GetSubject(), v.GetDescription())
	}
	for _, v := range d.BadRequest.GetFieldViolations() {
		fmt.Fprintf(w, "bad request\t%s: %s\n", v.GetField(), v.GetDescription())
	}
	for _, l := range d.Help.GetLinks() {
		fmt.Fprintf(w, "help\t%s: %s\n", l.GetDescription(), l.GetUrl())
	}
	for _, u := range d.Unknown {
		if m, ok := u.(proto.Message); ok {
			u = m.ProtoReflect().Descriptor().FullName()
		}
		fmt.Fprintf(w, "detail\t%v\n", u) // Or the error of one that did not decode.
	}
	if e := resp.GetEntry(); e != nil {
		fmt.Fprintf(w, "tmdb status\t%d %s (HTTP %d, retryable: %s)\n",
			e.GetCode(), e.GetStatus(), e.GetHttpStatus(), yesNo(e.GetRetryable()))
	}
}

// roundDelay rounds d to the second from a second up, else to the millisecond.
func roundDelay(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// offlineClient calls a StatusServiceServer in-process.
type offlineClient struct {
	srv tmdbstatusv1.StatusServiceServer
}

func (c offlineClient) Lookup(ctx context.Context, req *tmdbstatusv1.LookupRequest, _ ...grpc.CallOption) (*tmdbstatusv1.LookupResponse, error) {
	return c.srv.Lookup(ctx, req)
}

func (c offlineClient) ListStatuses(ctx context.Context, req *tmdbstatusv1.ListStatusesRequest, _ ...grpc.CallOption) (*tmdbstatusv1.ListStatusesResponse, error) {
	return c.srv.ListStatuses(ctx, req)
}

func (c offlineClient) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest, _ ...grpc.CallOption) (*tmdbstatusv1.TranslateResponse, error) {
	return c.srv.Translate(ctx, req)
}
