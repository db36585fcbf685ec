package api

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits of the API's HTTP server. A client that is slow, idle or oversized on purpose
// (or by accident) must not hold a connection, a goroutine and a file descriptor for
// ever; each number is far above what a loan backend or Stripe needs.
const (
	// ReadHeaderTimeout bounds reading the request line and headers: a few hundred bytes
	// that any client sends in one packet.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading the whole request, headers and body: the largest body
	// (a 1 MiB webhook) arrives in well under a second on any real link, so a client
	// trickling bytes is cut off instead of keeping the connection open.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the end of the
	// answer. POST /v1/applications may spend stripeTimeout (30 s) at Stripe and then
	// temporalTimeout (10 s) starting the workflow; 60 s covers both with room.
	WriteTimeout = 60 * time.Second
	// IdleTimeout is how long a keep-alive connection may wait for its next request:
	// long enough for a backend's connection pool to reuse it, short enough that
	// abandoned connections do not pile up.
	IdleTimeout = 60 * time.Second
	// MaxHeaderBytes bounds the request headers: the largest we read are a Stripe
	// signature (two or three signatures of 64 hex digits) and an Authorization header;
	// 16 KiB is ample and larger headers get 431.
	MaxHeaderBytes = 16 << 10
	// MaxConnections caps the connections served at once; further clients wait in the
	// kernel's accept queue. Each connection costs a goroutine and a file descriptor,
	// and requests beyond a few hundred would only queue at Stripe's rate limit and
	// Postgres' pool anyway.
	MaxConnections = 512
)

// ServerLimits are the HTTP server's limits; DefaultServerLimits holds the constants
// above. Tests shorten them.
type ServerLimits struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes, MaxConnections                            int
}

// DefaultServerLimits are the limits `underwriter api` and `underwriter dev` serve with.
var DefaultServerLimits = ServerLimits{
	ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout,
	IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes, MaxConnections: MaxConnections,
}

// HTTPServer returns an http.Server serving h with the limits' timeouts and header size.
// Serve it on Listener(ln) for the connection cap.
func (l ServerLimits) HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}

// Listener wraps ln so that at most MaxConnections connections are open at once.
func (l ServerLimits) Listener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, l.MaxConnections)
}
