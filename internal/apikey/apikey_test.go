package apikey_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/apikey"
)

func TestNewKeyParsesAndMatchesItsHash(t *testing.T) {
	k, err := apikey.New()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(k.Secret, apikey.Prefix+k.ID+"_"))
	id, err := apikey.Parse(k.Secret)
	require.NoError(t, err)
	require.Equal(t, k.ID, id)
	require.True(t, apikey.Matches(k.Secret, k.Hash))

	other, err := apikey.New()
	require.NoError(t, err)
	require.NotEqual(t, k.ID, other.ID)
	require.False(t, apikey.Matches(other.Secret, k.Hash))
	// The same id with another secret does not match.
	forged := apikey.Prefix + k.ID + "_" + strings.Repeat("0", 64)
	require.False(t, apikey.Matches(forged, k.Hash))
}

func TestParseRefusesWhatIsNotAKey(t *testing.T) {
	for _, s := range []string{"", "uwk_", "sk_test_123", "uwk_0123456789abcdef_" + strings.Repeat("a", 63),
		"uwk_0123456789ABCDEF_" + strings.Repeat("a", 64), "uwk_0123456789abcdef_" + strings.Repeat("a", 64) + "\n"} {
		_, err := apikey.Parse(s)
		require.True(t, errors.Is(err, apikey.ErrMalformed), "%q", s)
		require.NotContains(t, err.Error(), strings.Repeat("a", 63), "the error never echoes the key")
	}
}

func TestLenderIDsAndApplicationKeys(t *testing.T) {
	for _, ok := range []string{"dev", "acme", "bank-2", "a"} {
		require.NoError(t, apikey.CheckLender(ok), ok)
	}
	for _, bad := range []string{"", "Acme", "-x", "a/b", "a b", strings.Repeat("a", 33), "é"} {
		require.Error(t, apikey.CheckLender(bad), bad)
	}
	key := apikey.ApplicationKey("acme", "app-1")
	require.Equal(t, "acme/app-1", key)
	l, ext := apikey.SplitApplicationKey(key)
	require.Equal(t, [2]string{"acme", "app-1"}, [2]string{l, ext})
	l, ext = apikey.SplitApplicationKey("legacy-7")
	require.Equal(t, [2]string{apikey.DevLender, "legacy-7"}, [2]string{l, ext})
}
