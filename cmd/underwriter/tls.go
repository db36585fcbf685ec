package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// The API's own TLS, and mTLS for the lenders' backends.
var (
	envAPITLSCert  = envVar{"UNDERWRITER_TLS_CERT", "PEM certificate (chain) the API serves HTTPS with; with UNDERWRITER_TLS_KEY"}
	envAPITLSKey   = envVar{"UNDERWRITER_TLS_KEY", "PEM private key of UNDERWRITER_TLS_CERT (secret file)"}
	envAPIClientCA = envVar{"UNDERWRITER_TLS_CLIENT_CA",
		"PEM CA bundle: the lender routes then need a client certificate it signed (mTLS); the Stripe webhook and /healthz do not"}
)

// apiTLS reads the API's TLS settings: nil when none is set (plain HTTP, for a
// TLS-terminating proxy in front), otherwise the server's tls.Config, and whether lender
// routes need a verified client certificate. Every problem names its variable.
//
// Client certificates are verified when given rather than required of every connection:
// Stripe's webhook deliveries and load balancers' health checks present none, and the API
// refuses the lender routes to a connection without one (api.Server.RequireClientCert).
func apiTLS(getenv func(string) string) (*tls.Config, bool, error) {
	certFile, keyFile, caFile := getenv(envAPITLSCert.name), getenv(envAPITLSKey.name), getenv(envAPIClientCA.name)
	switch {
	case certFile == "" && keyFile == "" && caFile == "":
		return nil, false, nil
	case certFile == "" && keyFile == "":
		return nil, false, fmt.Errorf("%s: set, but not %s and %s: mTLS needs the API to serve TLS itself",
			envAPIClientCA.name, envAPITLSCert.name, envAPITLSKey.name)
	case certFile == "":
		return nil, false, fmt.Errorf("%s: not set, and %s is", envAPITLSCert.name, envAPITLSKey.name)
	case keyFile == "":
		return nil, false, fmt.Errorf("%s: not set, and %s is", envAPITLSKey.name, envAPITLSCert.name)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, false, fmt.Errorf("%s / %s: %w", envAPITLSCert.name, envAPITLSKey.name, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, false, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", envAPIClientCA.name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, false, fmt.Errorf("%s: %s holds no PEM certificate", envAPIClientCA.name, caFile)
	}
	cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	return cfg, true, nil
}
