package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewKeyParsesAndMatchesItsHash(t *testing.T) {
	k, err := NewKey()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(k.Secret, KeyPrefix+k.ID+"_"))
	id, err := ParseKey(k.Secret)
	require.NoError(t, err)
	require.Equal(t, k.ID, id)
	require.True(t, keyMatches(k.Secret, k.Hash))

	other, err := NewKey()
	require.NoError(t, err)
	require.NotEqual(t, k.ID, other.ID)
	require.False(t, keyMatches(other.Secret, k.Hash))
	forged := KeyPrefix + k.ID + "_" + strings.Repeat("0", 64)
	require.False(t, keyMatches(forged, k.Hash), "the same id with another secret does not match")
}

func TestParseKeyRefusesWhatIsNotAKey(t *testing.T) {
	for _, s := range []string{"", "uwk_", "sk_test_123", "uwk_0123456789abcdef_" + strings.Repeat("a", 63),
		"uwk_0123456789ABCDEF_" + strings.Repeat("a", 64), "uwk_0123456789abcdef_" + strings.Repeat("a", 64) + "\n"} {
		_, err := ParseKey(s)
		require.True(t, errors.Is(err, ErrMalformedKey), "%q", s)
		require.NotContains(t, err.Error(), strings.Repeat("a", 63), "the error never echoes the key")
	}
}
