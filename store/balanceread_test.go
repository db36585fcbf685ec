package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/store"
)

// TestBalanceReads: a recorded read stores its balance and is current until the account
// is stored again; a read of an earlier balance refresh never replaces a later one's.
func TestBalanceReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)

	r, current, err := s.LatestBalanceRead(ctx, "fca_1")
	require.NoError(t, err)
	require.False(t, current, "nothing recorded yet")
	require.Equal(t, store.BalanceRead{}, r)
	_, _, err = s.LatestBalanceRead(ctx, "fca_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	ok, err := s.RecordBalanceRead(ctx, "fca_missing", store.BalanceRead{Status: "succeeded"})
	require.NoError(t, err)
	require.False(t, ok, "an account not stored is not recorded")

	t1 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	bal := func(asOf time.Time, minor int64) *store.Balance {
		return &store.Balance{AccountID: "fca_1", AsOf: asOf, CurrentMinor: minor, AvailableMinor: ptr(minor - 100), Currency: "usd", Type: "cash"}
	}

	// The refresh started at t2 is pending: recorded, no balance of its own yet.
	ok, err = s.RecordBalanceRead(ctx, "fca_1", store.BalanceRead{Status: "pending", AttemptedAt: t2, Balance: bal(t1, 1000)})
	require.NoError(t, err)
	require.True(t, ok)
	// A read of the refresh started at t1, answered late, does not replace it.
	ok, err = s.RecordBalanceRead(ctx, "fca_1", store.BalanceRead{Status: "succeeded", AttemptedAt: t1, Balance: bal(t1, 1000)})
	require.NoError(t, err)
	require.False(t, ok, "an earlier refresh's read is not recorded")
	// Nor does a read that shows no refresh at all.
	ok, err = s.RecordBalanceRead(ctx, "fca_1", store.BalanceRead{})
	require.NoError(t, err)
	require.False(t, ok)
	r, current, err = s.LatestBalanceRead(ctx, "fca_1")
	require.NoError(t, err)
	require.True(t, current)
	require.Equal(t, "pending", r.Status)
	require.True(t, r.AttemptedAt.Equal(t2))
	require.NotNil(t, r.Balance)
	require.True(t, r.Balance.AsOf.Equal(t1))

	// The refresh started at t2 succeeded: its balance is stored and read back.
	t3 := t2.Add(time.Minute)
	ok, err = s.RecordBalanceRead(ctx, "fca_1", store.BalanceRead{Status: "succeeded", AttemptedAt: t2, Balance: bal(t3, 2500)})
	require.NoError(t, err)
	require.True(t, ok)
	r, current, err = s.LatestBalanceRead(ctx, "fca_1")
	require.NoError(t, err)
	require.True(t, current)
	require.Equal(t, "succeeded", r.Status)
	require.Equal(t, int64(2500), r.Balance.CurrentMinor)
	require.Equal(t, ptr(int64(2400)), r.Balance.AvailableMinor)
	require.True(t, r.Balance.AsOf.Equal(t3))
	latest, err := s.LatestBalance(ctx, "fca_1")
	require.NoError(t, err)
	require.True(t, latest.AsOf.Equal(t3), "the read's balance is stored as InsertBalance stores it")
	require.Equal(t, 2, countRows(t, pool, "balances"))

	// A sync marking its refresh leaves the read current; storing the account again (a
	// worker that asked for a refresh and did not record its read) does not.
	require.NoError(t, s.SetAccountSyncedRefresh(ctx, "fca_1", "fctxnref_1"))
	_, current, err = s.LatestBalanceRead(ctx, "fca_1")
	require.NoError(t, err)
	require.True(t, current)
	require.NoError(t, s.UpsertAccount(ctx, store.Account{
		ID: "fca_1", ApplicationID: "app_1", CustomerID: "cus_1", Category: "cash",
		Subcategory: "checking", Status: "active", InstitutionName: "Bank", Currency: "usd",
	}))
	r, current, err = s.LatestBalanceRead(ctx, "fca_1")
	require.NoError(t, err)
	require.False(t, current, "a read recorded before the account's last upsert is not current")
	require.Equal(t, "succeeded", r.Status)
}
