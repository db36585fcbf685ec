package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/codec"
)

// codecReadHeaderTimeout bounds a slow client's headers, as the API's server does.
const codecReadHeaderTimeout = 10 * time.Second

var envCodecAddr = envVar{"UNDERWRITER_CODEC_ADDR", "codec endpoint listen address (default 127.0.0.1:8089)"}

func codecCommand() command {
	return command{
		name: "codec",
		summary: "Serve the payload codec endpoint (Temporal's remote codec protocol: POST /encode, /decode) for one Web UI " +
			"origin, so an operator who logs in with the token it prints reads decrypted payloads in the UI.",
		env: []envVar{envPayloadKeys, envCodecAddr, envLogFormat, envLogLevel},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			addr := fs.String("addr", getenvOr(getenv, envCodecAddr.name, "127.0.0.1:8089"), "listen address")
			origin := fs.String("ui-origin", "", "the Web UI's origin allowed to call the endpoint, e.g. http://127.0.0.1:8233 (required)")
			certFile := fs.String("tls-cert", "", "serve https with this certificate (then the session cookie is Secure, SameSite=None)")
			keyFile := fs.String("tls-key", "", "the certificate's key")
			ttl := fs.Duration("session-ttl", codec.DefaultSessionTTL, "how long a login lasts")
			var logs logConfig
			logs.flags(fs, getenv, "json", "info")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				keys := strings.TrimSpace(getenv(envPayloadKeys.name))
				if keys == "" {
					return fmt.Errorf("%s: not set (id:<64 hex digits>,…)", envPayloadKeys.name)
				}
				pc, err := codec.ParseKeys(keys)
				if err != nil {
					return fmt.Errorf("%s: %w", envPayloadKeys.name, err)
				}
				if *origin == "" {
					return errors.New("--ui-origin: not set (the Web UI's origin, e.g. http://127.0.0.1:8233)")
				}
				if (*certFile == "") != (*keyFile == "") {
					return errors.New("--tls-cert and --tls-key: give both or neither")
				}
				if *ttl <= 0 {
					return fmt.Errorf("--session-ttl: %s is not positive", *ttl)
				}
				token := codec.NewLoginToken()
				h, err := codec.NewHandler(codec.ServerConfig{Codec: pc, Origin: strings.TrimSuffix(*origin, "/"), LoginToken: token, SessionTTL: *ttl, TLS: *certFile != ""})
				if err != nil {
					return fmt.Errorf("--ui-origin: %w", err)
				}
				var wrap func(net.Listener) net.Listener
				scheme := "http"
				if *certFile != "" {
					cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
					if err != nil {
						return fmt.Errorf("--tls-cert / --tls-key: %w", err)
					}
					cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
					wrap = func(ln net.Listener) net.Listener { return tls.NewListener(ln, cfg) }
					scheme = "https"
				}
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					return fmt.Errorf("listen on %s: %w", *addr, err)
				}
				base := scheme + "://" + ln.Addr().String()
				if wrap != nil {
					ln = wrap(ln)
				}
				// The token is a one-time login, not a key: printing it is how the operator
				// gets it, the way a notebook server prints its login URL.
				fmt.Fprintf(stdout, "codec endpoint: %s (key ids %s; encrypting with %s)\nlog in once, in the browser that opens the UI at %s:\n  %s/login?token=%s\n",
					base, strings.Join(pc.KeyIDs(), ", "), pc.EncryptKeyID(), *origin, base, token)
				hs := &http.Server{Handler: h, ReadHeaderTimeout: codecReadHeaderTimeout}
				errc := make(chan error, 1)
				go func() { errc <- hs.Serve(ln) }()
				logger.Info("codec endpoint listening", "addr", base, "ui_origin", *origin, "key_ids", pc.KeyIDs())
				select {
				case err := <-errc:
					return fmt.Errorf("serve on %s: %w", base, err)
				case <-ctx.Done():
				}
				sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
				defer cancel()
				return hs.Shutdown(sctx)
			}
		},
	}
}
