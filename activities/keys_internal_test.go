package activities

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRefreshKeyChangesPerAttempt: Stripe replays a stored 500 for a key, so each attempt
// asks under its own key, while the key stays tied to the workflow, round and account.
func TestRefreshKeyChangesPerAttempt(t *testing.T) {
	first := refreshKey("underwrite/app-1/refresh/1", "fca_1", 1)
	require.Equal(t, "underwrite/app-1/refresh/1/fca_1/1", first)
	require.NotEqual(t, first, refreshKey("underwrite/app-1/refresh/1", "fca_1", 2), "a retry gets a new key")
	require.NotEqual(t, first, refreshKey("underwrite/app-1/refresh/1", "fca_2", 1), "each account has its own key")
	require.NotEqual(t, first, refreshKey("underwrite/app-1/refresh/2", "fca_1", 1), "each round has its own key")
	require.Equal(t, first, refreshKey("underwrite/app-1/refresh/1", "fca_1", 1), "deterministic")
}
