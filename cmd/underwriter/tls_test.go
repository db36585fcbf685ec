package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeSelfSigned writes a self-signed certificate and its key as PEM files in dir.
func writeSelfSigned(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

// TestAPITLS: no TLS settings is plain HTTP; a certificate serves TLS; a client CA makes
// the lender routes need a certificate it signed, verified when given (Stripe gives none).
func TestAPITLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir, "server")
	ca, _ := writeSelfSigned(t, dir, "lenders-ca")
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))

	cfg, clientCerts, err := apiTLS(getenvOf(nil))
	require.NoError(t, err)
	require.Nil(t, cfg)
	require.False(t, clientCerts)

	cfg, clientCerts, err = apiTLS(getenvOf(map[string]string{"UNDERWRITER_TLS_CERT": cert, "UNDERWRITER_TLS_KEY": key}))
	require.NoError(t, err)
	require.Len(t, cfg.Certificates, 1)
	require.Equal(t, tls.NoClientCert, cfg.ClientAuth)
	require.False(t, clientCerts)

	cfg, clientCerts, err = apiTLS(getenvOf(map[string]string{"UNDERWRITER_TLS_CERT": cert, "UNDERWRITER_TLS_KEY": key,
		"UNDERWRITER_TLS_CLIENT_CA": ca}))
	require.NoError(t, err)
	require.True(t, clientCerts)
	require.Equal(t, tls.VerifyClientCertIfGiven, cfg.ClientAuth)
	require.NotNil(t, cfg.ClientCAs)

	_, _, err = apiTLS(getenvOf(map[string]string{"UNDERWRITER_TLS_CERT": cert, "UNDERWRITER_TLS_KEY": key,
		"UNDERWRITER_TLS_CLIENT_CA": notPEM}))
	require.EqualError(t, err, "UNDERWRITER_TLS_CLIENT_CA: "+notPEM+" holds no PEM certificate")
}
