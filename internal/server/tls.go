package server

import (
	"crypto/tls"

	"github.com/tmdbstatus/tmdbstatus/internal/tlsconfig"
)

// tlsConfig returns the TLS configuration of the servers, or nil when cfg
// serves without TLS. With a client CA, a client must present a
// certificate that CA signed.
func tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.TLSCert == "" {
		return nil, nil
	}
	return tlsconfig.Server(tlsconfig.Files{Cert: cfg.TLSCert, Key: cfg.TLSKey, CA: cfg.TLSClientCA, CAFlag: "--tls-client-ca"})
}
