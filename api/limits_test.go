package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testLimits are DefaultServerLimits shortened so that each limit is reached within a
// test; slack is how long past a limit the server may take to act on it.
var testLimits = ServerLimits{
	ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
	WriteTimeout: time.Second, IdleTimeout: 300 * time.Millisecond,
	MaxHeaderBytes: 1 << 10, MaxConnections: 1,
}

const slack = 2 * time.Second

// serveLimited serves the API's handler with limits on a loopback port and returns its
// address.
func serveLimited(t *testing.T, l ServerLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s, _ := testServer()
	hs := l.HTTPServer(s.Handler())
	go func() { _ = hs.Serve(l.Listener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedAfter reads from c until the server closes it and returns how long that took, or
// an error if the server has not closed c after limit.
func closedAfter(c net.Conn, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(limit)); err != nil {
		return 0, err
	}
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0, fmt.Errorf("the server kept the connection open past %s", limit)
	}
	return time.Since(start), nil
}

// with returns testLimits changed by f.
func with(f func(*ServerLimits)) ServerLimits {
	l := testLimits
	f(&l)
	return l
}

const healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n"

func TestServerLimits(t *testing.T) {
	// Cases that wait on one limit set the others long, so that only that limit can end
	// the connection in time.
	for _, tc := range []struct {
		name   string
		limits ServerLimits
		probe  func(t *testing.T, addr string)
	}{
		{"a body sent one byte at a time is cut off", with(func(l *ServerLimits) { l.WriteTimeout = time.Minute }), func(t *testing.T, addr string) {
			c := dial(t, addr)
			const n = 100 // at 100 ms a byte, 10 s: far beyond ReadTimeout
			_, err := fmt.Fprintf(c, "POST /v1/webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", n)
			require.NoError(t, err)
			type result struct {
				took time.Duration
				err  error
			}
			done := make(chan result, 1)
			go func() {
				took, err := closedAfter(c, testLimits.ReadTimeout+slack)
				done <- result{took, err}
			}()
			for i := 0; ; i++ {
				if i < n {
					_, _ = c.Write([]byte("x")) // fails once the server has closed
				}
				select {
				case r := <-done:
					require.NoError(t, r.err)
					require.Less(t, i, n/2, "cut off only after %s", r.took)
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}},
		{"an idle keep-alive connection is closed", with(func(l *ServerLimits) { l.ReadTimeout = time.Minute }), func(t *testing.T, addr string) {
			c := dial(t, addr)
			_, err := fmt.Fprint(c, healthz+"\r\n")
			require.NoError(t, err)
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode)
			_, _ = io.Copy(io.Discard, res.Body)
			_, err = closedAfter(c, testLimits.IdleTimeout+slack)
			require.NoError(t, err)
		}},
		{"a header over the limit gets 431", testLimits, func(t *testing.T, addr string) {
			c := dial(t, addr)
			// net/http allows 4 KiB over MaxHeaderBytes; 64 KiB is over in any case.
			_, err := fmt.Fprintf(c, healthz+"X-Padding: %s\r\n\r\n", strings.Repeat("a", 64<<10))
			require.NoError(t, err)
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
		}},
		{"a header under the limit is served", testLimits, func(t *testing.T, addr string) {
			c := dial(t, addr)
			_, err := fmt.Fprintf(c, healthz+"X-Padding: %s\r\n\r\n", strings.Repeat("a", 512))
			require.NoError(t, err)
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode)
		}},
		{"connections beyond the cap wait", with(func(l *ServerLimits) { l.ReadTimeout, l.IdleTimeout = time.Minute, time.Minute }), func(t *testing.T, addr string) {
			first := dial(t, addr)
			_, err := fmt.Fprint(first, healthz+"\r\n")
			require.NoError(t, err)
			_, err = http.ReadResponse(bufio.NewReader(first), nil)
			require.NoError(t, err)

			second := dial(t, addr) // the kernel accepts it; the server does not serve it yet
			_, err = fmt.Fprint(second, healthz+"\r\n")
			require.NoError(t, err)
			answered := make(chan error, 1)
			go func() {
				_, err := http.ReadResponse(bufio.NewReader(second), nil)
				answered <- err
			}()
			select {
			case err := <-answered:
				t.Fatalf("a second connection was served while the first held the only slot: %v", err)
			case <-time.After(500 * time.Millisecond):
			}
			require.NoError(t, first.Close())
			select {
			case err := <-answered:
				require.NoError(t, err)
			case <-time.After(slack):
				t.Fatal("the second connection was not served once the first closed")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.probe(t, serveLimited(t, tc.limits))
		})
	}
}

func TestDefaultServerLimitsAreApplied(t *testing.T) {
	hs := DefaultServerLimits.HTTPServer(http.NotFoundHandler())
	for _, tc := range []struct {
		name      string
		got, want time.Duration
	}{
		{"read header", hs.ReadHeaderTimeout, ReadHeaderTimeout},
		{"read", hs.ReadTimeout, ReadTimeout},
		{"write", hs.WriteTimeout, WriteTimeout},
		{"idle", hs.IdleTimeout, IdleTimeout},
	} {
		require.Equal(t, tc.want, tc.got, tc.name)
		require.Positive(t, tc.got, tc.name)
	}
	require.Equal(t, MaxHeaderBytes, hs.MaxHeaderBytes)
	require.Greater(t, WriteTimeout, stripeTimeout+temporalTimeout, "a slow Stripe and Temporal still get their answer written")
}
