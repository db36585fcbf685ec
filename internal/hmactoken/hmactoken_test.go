package hmactoken

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIssueAndVerify(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := Signer{Key: []byte("0123456789abcdef0123456789abcdef"), Purpose: "test"}
	tok := s.Issue(now.Add(10 * time.Minute))
	require.NoError(t, s.Verify(tok, now))
	require.NoError(t, s.Verify(tok, now.Add(10*time.Minute-time.Second)))
	require.ErrorIs(t, s.Verify(tok, now.Add(10*time.Minute)), ErrExpired)
	require.NotEqual(t, tok, s.Issue(now.Add(10*time.Minute)), "tokens are distinct")

	// A later expiry under the old signature, another key, another purpose.
	i := strings.LastIndex(tok, ".")
	parts := strings.Split(tok[:i], ".")
	longer := "v1.9999999999." + parts[2] + tok[i:]
	require.ErrorIs(t, s.Verify(longer, now), ErrForged)
	require.ErrorIs(t, Signer{Key: []byte("another key, as long as the first"), Purpose: "test"}.Verify(tok, now), ErrForged)
	require.ErrorIs(t, Signer{Key: s.Key, Purpose: "other"}.Verify(tok, now), ErrForged)
	require.ErrorIs(t, s.Verify("", now), ErrMalformed)
	require.ErrorIs(t, s.Verify(tok[:i], now), ErrForged, "no signature")
}
