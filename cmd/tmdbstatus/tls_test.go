package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/grpclog"

	tmdbstatusv1 "github.com/tmdbstatus/tmdbstatus/gen/tmdbstatus/v1"
	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var grpcListeningRE = regexp.MustCompile(`msg="gRPC server listening" addr=(\S+)`)

// runServe runs `serve` with args as main does, on loopback ports it learns
// from the log, until the test ends, and returns its log.
func runServe(t *testing.T, args ...string) *testutil.SyncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testutil.SyncBuffer
	done := make(chan error, 1)
	args = append([]string{"serve", "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, args...)
	go func() { done <- runCmd(ctx, args, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		testutil.WaitDone(t, "run", done)
	})
	return &stderr
}

// startRun runs `serve` with args, as runServe does, and returns its
// addresses.
func startRun(t *testing.T, args ...string) (grpcAddr, httpAddr string) {
	t.Helper()
	log := runServe(t, args...)
	return waitForLog(t, log, grpcListeningRE)[1], waitForLog(t, log, listeningRE)[1]
}

// serverTLS returns the flags that serve TLS with a certificate ca issues.
func serverTLS(t *testing.T, ca *testutil.CA) []string {
	dir := t.TempDir()
	cert, key := ca.Issue(t, "server", x509.ExtKeyUsageServerAuth)
	return []string{"--tls-cert=" + writeFile(t, dir, "server.pem", cert), "--tls-key=" + writeFile(t, dir, "server.key", key)}
}

// TestTLS serves with TLS, then with mutual TLS, on certificates the test
// makes, and connects with and without a client certificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, otherCA := testutil.NewCA(t, "test CA"), testutil.NewCA(t, "other CA")
	serverCert, serverKey := ca.Issue(t, "server", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.Issue(t, "client", x509.ExtKeyUsageClientAuth)
	strangerCert, strangerKey := otherCA.Issue(t, "stranger", x509.ExtKeyUsageClientAuth)
	certFile, keyFile := writeFile(t, dir, "server.pem", serverCert), writeFile(t, dir, "server.key", serverKey)
	caFile := writeFile(t, dir, "ca.pem", ca.PEM)

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	pair := func(certPEM, keyPEM []byte) []tls.Certificate {
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	clients := []struct {
		name  string
		certs []tls.Certificate
	}{
		{"no client certificate", nil},
		{"client certificate of the CA", pair(clientCert, clientKey)},
		{"client certificate of another CA", pair(strangerCert, strangerKey)},
	}
	// call makes one gRPC and one HTTPS request with tc.
	call := func(t *testing.T, grpcAddr, httpAddr string, tc *tls.Config) (grpcErr, httpErr error) {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		if err != nil {
			t.Fatalf("grpc.NewClient(%s): %v", grpcAddr, err)
		}
		defer conn.Close()
		_, grpcErr = tmdbstatusv1.NewStatusServiceClient(conn).Lookup(testutil.Context(t), &tmdbstatusv1.LookupRequest{Code: 7})

		client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://" + httpAddr + "/v1/statuses/7")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		return grpcErr, err
	}

	for _, mutual := range []bool{false, true} {
		name := "TLS"
		args := []string{"--tls-cert=" + certFile, "--tls-key=" + keyFile}
		if mutual {
			name = "mutual TLS"
			args = append(args, "--tls-client-ca="+caFile)
		}
		t.Run(name, func(t *testing.T) {
			grpcAddr, httpAddr := startRun(t, args...)
			for _, c := range clients {
				tc := &tls.Config{RootCAs: roots, Certificates: c.certs}
				grpcErr, httpErr := call(t, grpcAddr, httpAddr, tc)
				t.Logf("%s: gRPC error %v; HTTPS error %v", c.name, grpcErr, httpErr)
				wantOK := !mutual || c.name == "client certificate of the CA"
				if (grpcErr == nil) != wantOK || (httpErr == nil) != wantOK {
					t.Errorf("%s: gRPC error %v, HTTPS error %v; want success %v", c.name, grpcErr, httpErr, wantOK)
				}
			}
			// Without TLS, nothing is served.
			conn := testutil.Dial(t, grpcAddr)
			if _, err := tmdbstatusv1.NewStatusServiceClient(conn).Lookup(testutil.Context(t), &tmdbstatusv1.LookupRequest{Code: 7}); err == nil {
				t.Errorf("Lookup(7) over plaintext gRPC succeeded; want an error")
			}
			if code, body := get(t, http.DefaultClient, "http://"+httpAddr+"/v1/statuses/7"); code == http.StatusOK {
				t.Errorf("GET over plain HTTP = %d %s; want an error", code, body)
			}
		})
	}
}

// TestTLSBadFiles checks that files that cannot serve TLS are a one-line
// usage error naming the flag.
func TestTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t, "test CA")
	certPEM, keyPEM := ca.Issue(t, "server", x509.ExtKeyUsageServerAuth)
	cert, key := writeFile(t, dir, "server.pem", certPEM), writeFile(t, dir, "server.key", keyPEM)
	missing := filepath.Join(dir, "missing.pem")
	notPEM := writeFile(t, dir, "not.pem", []byte("hello"))
	tests := []struct {
		args []string
		want string // In the one line of stderr.
	}{
		{[]string{"--tls-cert=" + missing, "--tls-key=" + key}, "--tls-cert"},
		{[]string{"--tls-cert=" + cert, "--tls-key=" + notPEM}, "--tls-key"},
		{[]string{"--tls-cert=" + cert, "--tls-key=" + key, "--tls-client-ca=" + missing}, "--tls-client-ca"},
		{[]string{"--tls-cert=" + cert, "--tls-key=" + key, "--tls-client-ca=" + notPEM}, "--tls-client-ca"},
	}
	for _, tt := range tests {
		args := append([]string{"serve", "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, tt.args...)
		var stdout, stderr bytes.Buffer
		err := runCmd(t.Context(), args, &stdout, &stderr)
		if !isUsage(err) {
			t.Errorf("run(%q) = %v; want a usage error", args, err)
		}
		if s := stderr.String(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, "tmdbstatus serve: ") || !strings.Contains(s, tt.want) {
			t.Errorf("run(%q) stderr = %q; want one line naming %s", args, s, tt.want)
		}
	}
}

// get sends a GET to url and returns the status code and body.
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testutil.Context(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("NewRequest(GET %s): %v", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

// TestTLSVersionAndCiphers checks that every port refuses TLS 1.1 and the
// TLS 1.2 cipher suites without AEAD, and accepts TLS 1.2 with AEAD.
func TestTLSVersionAndCiphers(t *testing.T) {
	ca := testutil.NewCA(t, "test CA")
	stderr := runServe(t, append(serverTLS(t, ca), "--admin-addr=127.0.0.1:0")...)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	for _, port := range []string{"gRPC", "HTTP", "admin"} {
		addr := waitForLog(t, stderr, regexp.MustCompile(`msg="`+port+` server listening" addr=(\S+)`))[1]
		for _, tt := range []struct {
			name    string
			version uint16
			suite   uint16
			wantOK  bool
		}{
			{"TLS 1.1", tls.VersionTLS11, 0, false},
			{"TLS 1.2 AES-CBC", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
			{"TLS 1.2 AES-CBC-SHA256", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, false},
			{"TLS 1.2 AES-GCM", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
			{"TLS 1.2 ChaCha20-Poly1305", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
		} {
			tc := &tls.Config{RootCAs: roots, MinVersion: tt.version, MaxVersion: tt.version, NextProtos: []string{"h2"}}
			if tt.suite != 0 {
				tc.CipherSuites = []uint16{tt.suite}
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: testutil.WaitTimeout}, "tcp", addr, tc)
			if err == nil {
				conn.Close()
			}
			if (err == nil) != tt.wantOK {
				t.Errorf("%s port, %s: handshake error %v; want success %v", port, tt.name, err, tt.wantOK)
			}
		}
	}
}

// TestLogsBoundedAndJSON checks that what clients make libraries log (a
// failed TLS handshake, grpclog's errors, OpenTelemetry's) reaches the JSON
// log as JSON lines, and at most a few a second however many come.
func TestLogsBoundedAndJSON(t *testing.T) {
	stderr := runServe(t, append(serverTLS(t, testutil.NewCA(t, "test CA")), "--log-format=json")...)
	addr := waitForLog(t, stderr, regexp.MustCompile(`"msg":"HTTP server listening","addr":"([^"]+)"`))[1]

	const flood = 50
	for range flood {
		conn, err := net.DialTimeout("tcp", addr, testutil.WaitTimeout)
		if err != nil {
			t.Fatalf("Dial(%s): %v", addr, err)
		}
		conn.SetDeadline(time.Now().Add(testutil.WaitTimeout))
		conn.Write([]byte("\x16\x00\x00garbage, not a TLS record\r\n"))
		io.Copy(io.Discard, conn) // Until the server closes it.
		conn.Close()
		grpclog.Errorf("Failed to parse Content-Type %s: %v", "x", "mime: no media type")
	}
	otel.Handle(errors.New("exporter unreachable"))
	waitForLog(t, stderr, regexp.MustCompile(`exporter unreachable`))
	count := map[string]int{}
	for line := range strings.Lines(stderr.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
			continue
		}
		for _, what := range []string{"TLS handshake error", "Failed to parse Content-Type", "exporter unreachable"} {
			if strings.Contains(line, what) {
				count[what]++
			}
		}
	}
	t.Logf("log lines of %d failed handshakes and grpclog errors: %v", flood, count)
	for what, n := range count {
		if n > 20 {
			t.Errorf("%d %q log lines for %d events; want at most a few a second", n, what, flood)
		}
	}
	if count["TLS handshake error"] == 0 || count["Failed to parse Content-Type"] == 0 || count["exporter unreachable"] != 1 {
		t.Errorf("log lines %v; want each kind logged", count)
	}
}
