package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testCert makes a certificate for name signed by parent (self-signed when parent is nil)
// and returns it with its key.
func testCert(t *testing.T, name string, isCA bool, parent *tls.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IsCA:        isCA, BasicConstraintsValid: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// TestClientCertificateRequired: with RequireClientCert, the lender routes answer 401
// client_certificate_required to a connection without a client certificate the lenders' CA
// signed, before the API key is even looked at; with one, the key is checked as always.
// The webhook and /healthz never ask for one.
func TestClientCertificateRequired(t *testing.T) {
	ca := testCert(t, "lenders CA", true, nil)
	serverCert := testCert(t, "127.0.0.1", false, &ca)
	lenderCert := testCert(t, "acme backend", false, &ca)
	stranger := testCert(t, "stranger", false, nil)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)

	s, _ := testServer()
	s.RequireClientCert = true
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// client presents certs[0] whatever the server asks for (Go's client would otherwise
	// send no certificate the server's CA list does not name).
	client := func(certs ...tls.Certificate) *http.Client {
		roots := x509.NewCertPool()
		roots.AddCert(ca.Leaf)
		cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if len(certs) > 0 {
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	do := func(hc *http.Client, method, path, auth, body string) (int, string, error) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var e ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error.Code, nil
	}
	bearer := "Bearer " + testLenderKey.Secret
	app := `{"application_id":"x"}`

	status, code, err := do(client(), http.MethodPost, "/v1/applications", bearer, app)
	require.NoError(t, err)
	require.Equal(t, [2]any{401, "client_certificate_required"}, [2]any{status, code}, "a valid key without a certificate")
	status, code, err = do(client(), http.MethodGet, "/v1/applications/x", bearer, "")
	require.NoError(t, err)
	require.Equal(t, [2]any{401, "client_certificate_required"}, [2]any{status, code})

	// A certificate the lenders' CA did not sign fails the handshake itself.
	_, _, err = do(client(stranger), http.MethodPost, "/v1/applications", bearer, app)
	require.Error(t, err)

	status, code, err = do(client(lenderCert), http.MethodPost, "/v1/applications", "", app)
	require.NoError(t, err)
	require.Equal(t, [2]any{401, "missing_api_key"}, [2]any{status, code}, "a certificate is not a key")
	status, code, err = do(client(lenderCert), http.MethodPost, "/v1/applications", bearer, app)
	require.NoError(t, err)
	require.Equal(t, [2]any{400, "invalid_request"}, [2]any{status, code}, "certificate and key: the request is read")

	status, code, err = do(client(), http.MethodPost, "/v1/webhooks/stripe", "", `{}`)
	require.NoError(t, err)
	require.Equal(t, [2]any{400, "invalid_signature"}, [2]any{status, code}, "Stripe presents no certificate")
	status, _, err = do(client(), http.MethodGet, "/healthz", "", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}
