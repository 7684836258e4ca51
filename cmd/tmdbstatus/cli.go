package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/server"
	"github.com/tmdbstatus/tmdbstatus/service"
)

// The client commands: each calls one RPC of StatusService, over gRPC or,
// with --offline, in-process.
var clientCommands = map[string]struct {
	args, summary string
}{
	"lookup":    {"CODE", "Print the table entry of one TMDB status code."},
	"list":      {"", "Print TMDB's whole status-code table."},
	"translate": {"", "Translate a TMDB response, its body read from stdin, into a gRPC status."},
}

// isClientCommand reports whether name is one of the client commands that
// runClient runs.
func isClientCommand(name string) bool {
	_, ok := clientCommands[name]
	return ok
}

// Client defaults: the gRPC address of a server on this machine, and how
// long an RPC may take.
const (
	defaultClientAddr    = "localhost" + server.DefaultGRPCAddr
	defaultClientTimeout = 10 * time.Second
)

// maxTranslateBody is the largest body translate reads from stdin: what the
// REST gateway and a grpc-go server accept.
const maxTranslateBody = 4 << 20

// clientConfig is what a client command runs with.
type clientConfig struct {
	addr       string
	timeout    time.Duration
	json       bool
	offline    bool
	tls        bool   // TLS to the server, with tlsCA, tlsCert, tlsKey
	tlsCA      string // PEM file of the CAs that sign the server's certificate
	tlsCert    string // PEM file of the client's certificate (mutual TLS)
	tlsKey     string // PEM file of the key of tlsCert
	code       int32  // lookup
	httpStatus int    // translate
	retryAfter string // translate
}

// runClient runs the client command args[0] with the flags and arguments
// args[1:], reading the environment through getenv and a TMDB body for
// translate from stdin. It follows run's conventions: the usage on stdout
// and flag.ErrHelp when asked for help, a one-line error on stderr and an
// error wrapping errUsage for a command line it refuses, and any other error
// for a failed RPC or I/O. A TMDB failure that translate translates is its
// output, not an error.
func runClient(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := args[0]
	cfg, err := parseClient(cmd, args[1:], getenv, stdout, stderr)
	if err != nil {
		return err
	}

	var client tmdbstatusv1.StatusServiceClient = offlineClient{service.New()}
	if !cfg.offline {
		creds, err := clientCredentials(cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		conn, err := grpc.NewClient(cfg.addr, grpc.WithTransportCredentials(creds))
		if err != nil { // Only for an address grpc cannot parse.
			fmt.Fprintf(stderr, "tmdbstatus %s: --addr %q: %v (see tmdbstatus %s --help)\n", cmd, cfg.addr, err, cmd)
			return fmt.Errorf("%w: --addr %q: %w", errUsage, cfg.addr, err)
		}
		defer conn.Close()
		client = tmdbstatusv1.NewStatusServiceClient(conn)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	var resp proto.Message
	switch cmd {
	case "lookup":
		resp, err = client.Lookup(ctx, &tmdbstatusv1.LookupRequest{Code: cfg.code})
	case "list":
		resp, err = client.ListStatuses(ctx, &tmdbstatusv1.ListStatusesRequest{})
	case "translate":
		var req *tmdbstatusv1.TranslateRequest
		if req, err = translateRequest(cfg, stdin); err != nil {
			return err
		}
		resp, err = client.Translate(ctx, req)
	}
	if err != nil {
		if cfg.offline {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		return fmt.Errorf("%s (%s): %w", cmd, cfg.addr, err)
	}

	if cfg.json {
		b, err := protojson.MarshalOptions{Multiline: true, EmitDefaultValues: true}.Marshal(resp)
		if err != nil {
			return fmt.Errorf("%s: encode the answer: %w", cmd, err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
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

// parseClient parses the flags and arguments of the client command cmd,
// as parseServe does those of serve.
func parseClient(cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) (clientConfig, error) {
	fs := flag.NewFlagSet("tmdbstatus "+cmd, flag.ContinueOnError)
	cfg := clientConfig{}
	fs.StringVar(&cfg.addr, "addr", envOr(getenv, "TMDBSTATUS_ADDR", defaultClientAddr),
		"gRPC `address` of the tmdbstatus server (env TMDBSTATUS_ADDR)")
	fs.DurationVar(&cfg.timeout, "timeout", defaultClientTimeout, "how long the RPC may take")
	fs.BoolVar(&cfg.json, "json", false, "print the answer as JSON (protojson, as the REST API writes it)")
	fs.BoolVar(&cfg.offline, "offline", false, "answer in-process, with no server: --addr, --timeout and --tls* are ignored")
	fs.BoolVar(&cfg.tls, "tls", false, "connect with TLS, verifying the server with the system's CAs (implied by --tls-ca and --tls-cert)")
	fs.StringVar(&cfg.tlsCA, "tls-ca", "", "PEM `file` of the CA certificates to verify the server with, instead of the system's")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM `file` of the client certificate to present (mutual TLS); needs --tls-key")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM `file` of the private key of --tls-cert")
	if cmd == "translate" {
		fs.IntVar(&cfg.httpStatus, "http-status", 0, "the HTTP `status` of TMDB's response")
		fs.StringVar(&cfg.retryAfter, "retry-after", "", "the Retry-After header of TMDB's response: seconds or an HTTP-date")
	}
	c := clientCommands[cmd]
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: tmdbstatus %s [flags]%s\n\n%s\n", cmd, strings.TrimRight(" "+c.args, " "), c.summary)
		switch cmd {
		case "translate":
			fmt.Fprint(w, "The body TMDB answered with is read from stdin, unless stdin is a terminal.\n"+
				"A TMDB failure is printed, and is no failure of the command.\n")
		case "lookup":
			fmt.Fprint(w, "A code TMDB does not define is an error.\n")
		}
		fmt.Fprint(w, "Exit status: 0 done, 1 RPC or I/O failure, 2 bad command line.\n\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	// Flags may come before or after the arguments: parse again after each
	// argument, until a "--" ends the flags.
	var pos []string
	var err error
	for {
		if err = fs.Parse(args); err != nil {
			break
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}

	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return clientConfig{}, err
	case err != nil:
	case cmd == "lookup" && len(pos) == 0:
		err = errors.New("missing CODE")
	case cmd == "lookup" && len(pos) > 1:
		err = fmt.Errorf("unexpected argument %q", pos[1])
	case cmd != "lookup" && len(pos) > 0:
		err = fmt.Errorf("unexpected argument %q", pos[0])
	case !cfg.offline && cfg.addr == "":
		err = errors.New("empty --addr")
	case (cfg.tlsCert == "") != (cfg.tlsKey == ""):
		err = errors.New("--tls-cert and --tls-key go together")
	case cfg.timeout <= 0:
		err = fmt.Errorf("--timeout %v: must be positive", cfg.timeout)
	case cfg.httpStatus != 0 && (cfg.httpStatus < 100 || cfg.httpStatus > 599):
		err = fmt.Errorf("--http-status %d: not an HTTP status (100 to 599)", cfg.httpStatus)
	default:
		if cmd != "lookup" {
			return cfg, nil
		}
		n, perr := strconv.ParseInt(pos[0], 10, 32)
		if perr == nil {
			cfg.code = int32(n)
			return cfg, nil
		}
		err = fmt.Errorf("CODE %q: not a TMDB status code", pos[0])
	}
	// One line, as serve reports its own.
	fmt.Fprintf(stderr, "tmdbstatus %s: %v (see tmdbstatus %s --help)\n", cmd, err, cmd)
	return clientConfig{}, fmt.Errorf("%w: %w", errUsage, err)
}

// clientCredentials returns the transport credentials cfg asks for:
// plaintext, or TLS with the system's CAs or cfg.tlsCA's, and a client
// certificate for mutual TLS.
func clientCredentials(cfg clientConfig) (credentials.TransportCredentials, error) {
	if !cfg.tls && cfg.tlsCA == "" && cfg.tlsCert == "" {
		return insecure.NewCredentials(), nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.tlsCA != "" {
		pem, err := os.ReadFile(cfg.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", cfg.tlsCA)
		}
	}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", cfg.tlsCert, cfg.tlsKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(tc), nil
}

// translateRequest builds the request of translate from cfg and the body
// read from stdin. A terminal on stdin is not read: the body is then empty.
func translateRequest(cfg clientConfig, stdin io.Reader) (*tmdbstatusv1.TranslateRequest, error) {
	req := &tmdbstatusv1.TranslateRequest{
		HttpStatus: int32(cfg.httpStatus),
		RetryAfter: cfg.retryAfter,
	}
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return req, nil
		}
	}
	body, err := io.ReadAll(io.LimitReader(stdin, maxTranslateBody+1))
	if err != nil {
		return nil, fmt.Errorf("translate: read the body from stdin: %w", err)
	}
	if len(body) > maxTranslateBody {
		return nil, fmt.Errorf("translate: body on stdin larger than %d bytes", maxTranslateBody)
	}
	req.Body = string(body)
	return req, nil
}

// writeEntries writes entries as a table, one row each, under a header.
func writeEntries(w io.Writer, entries ...*tmdbstatusv1.StatusEntry) {
	fmt.Fprintln(w, "CODE\tHTTP\tGRPC CODE\tREASON\tRETRYABLE\tMESSAGE")
	for _, e := range entries {
		fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\n",
			e.GetCode(), e.GetHttpStatus(), e.GetGrpcCode(), e.GetReason(), yesNo(e.GetRetryable()), e.GetMessage())
	}
}

// writeTranslation writes the status of a translation, one line for its
// code, its message and each of its details, then its table entry.
func writeTranslation(w io.Writer, resp *tmdbstatusv1.TranslateResponse) {
	st := resp.GetStatus()
	fmt.Fprintf(w, "code\t%s\n", code.Code(st.GetCode()))
	fmt.Fprintf(w, "message\t%s\n", st.GetMessage())
	for _, d := range status.FromProto(st).Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fmt.Fprintf(w, "reason\t%s\n", d.GetReason())
			fmt.Fprintf(w, "domain\t%s\n", d.GetDomain())
			md := d.GetMetadata()
			for _, k := range slices.Sorted(maps.Keys(md)) {
				fmt.Fprintf(w, "metadata\t%s=%s\n", k, md[k])
			}
		case *errdetails.RetryInfo:
			fmt.Fprintf(w, "retry after\t%v\n", d.GetRetryDelay().AsDuration())
		case *errdetails.QuotaFailure:
			for _, v := range d.GetViolations() {
				fmt.Fprintf(w, "quota failure\t%s: %s\n", v.GetSubject(), v.GetDescription())
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(w, "bad request\t%s: %s\n", v.GetField(), v.GetDescription())
			}
		case *errdetails.Help:
			for _, l := range d.GetLinks() {
				fmt.Fprintf(w, "help\t%s: %s\n", l.GetDescription(), l.GetUrl())
			}
		case proto.Message:
			fmt.Fprintf(w, "detail\t%s\n", d.ProtoReflect().Descriptor().FullName())
		case error: // A detail whose type is not linked in.
			fmt.Fprintf(w, "detail\t%v\n", d)
		}
	}
	if e := resp.GetEntry(); e != nil {
		fmt.Fprintf(w, "tmdb status\t%d %s (HTTP %d, retryable: %s)\n",
			e.GetCode(), e.GetStatus(), e.GetHttpStatus(), yesNo(e.GetRetryable()))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// offlineClient is a StatusServiceClient that calls a StatusServiceServer
// in-process: the same answers as over gRPC, with no server.
type offlineClient struct {
	srv tmdbstatusv1.StatusServiceServer
}

var _ tmdbstatusv1.StatusServiceClient = offlineClient{}

func (c offlineClient) Lookup(ctx context.Context, req *tmdbstatusv1.LookupRequest, _ ...grpc.CallOption) (*tmdbstatusv1.LookupResponse, error) {
	return c.srv.Lookup(ctx, req)
}

func (c offlineClient) ListStatuses(ctx context.Context, req *tmdbstatusv1.ListStatusesRequest, _ ...grpc.CallOption) (*tmdbstatusv1.ListStatusesResponse, error) {
	return c.srv.ListStatuses(ctx, req)
}

func (c offlineClient) Translate(ctx context.Context, req *tmdbstatusv1.TranslateRequest, _ ...grpc.CallOption) (*tmdbstatusv1.TranslateResponse, error) {
	return c.srv.Translate(ctx, req)
}
