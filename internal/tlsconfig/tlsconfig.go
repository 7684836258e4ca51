// Package tlsconfig loads TLS configurations from PEM files, each error
// naming the flag of the file at fault.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Files names the PEM files of one side of a connection; "" is none.
type Files struct {
	Cert, Key string // The certificate (chain) presented, and its key.
	CA        string // The CA certificates that verify the peer.
	CAFlag    string // The flag of CA, named in its errors.
}

// Server returns the TLS configuration of a server presenting f.Cert,
// which requires a client certificate that f.CA signed when f.CA is set.
func Server(f Files) (*tls.Config, error) {
	tc, err := Client(f)
	if err != nil || tc.RootCAs == nil {
		return tc, err
	}
	tc.ClientCAs, tc.RootCAs = tc.RootCAs, nil
	tc.ClientAuth = tls.RequireAndVerifyClientCert
	return tc, nil
}

// Client returns the TLS configuration of a client that verifies the
// server with f.CA, or with the system's CAs when f.CA is empty, and
// presents f.Cert, if set, for mutual TLS.
func Client(f Files) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// ECDHE with an AEAD, as grpc-go allows: no CBC on REST either.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
	if f.Cert != "" || f.Key != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", f.Cert, f.Key, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.CAFlag, err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s %s: no PEM certificate in it", f.CAFlag, f.CA)
		}
	}
	return tc, nil
}
