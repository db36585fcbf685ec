package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.Pool(t))
	hash := make([]byte, 32)
	hash[0] = 7

	require.ErrorContains(t, s.InsertAPIKey(ctx, "nobody", "k0", "", hash), "lender nobody")
	require.NoError(t, s.EnsureLender(ctx, "acme", "Acme Bank"))
	require.NoError(t, s.EnsureLender(ctx, "acme", ""), "ensuring again keeps the lender")
	require.Error(t, s.EnsureLender(ctx, "Not/A-Lender", ""), "the table refuses a lender id that cannot be in a workflow id")
	require.NoError(t, s.InsertAPIKey(ctx, "acme", "k1", "first", hash))
	require.NoError(t, s.InsertAPIKey(ctx, "acme", "k2", "rotation", hash))
	require.Error(t, s.InsertAPIKey(ctx, "acme", "k3", "", hash[:16]), "a hash is 32 bytes")

	lender, got, err := s.ActiveAPIKey(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, "acme", lender)
	require.Equal(t, hash, got)
	_, _, err = s.ActiveAPIKey(ctx, "k9")
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.TouchAPIKey(ctx, "k1"))
	keys, err := s.ListAPIKeys(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.Equal(t, "k1", keys[0].ID)
	require.NotNil(t, keys[0].LastUsedAt)
	require.Nil(t, keys[1].LastUsedAt)

	revoked, err := s.RevokeAPIKey(ctx, "k1")
	require.NoError(t, err)
	require.NotNil(t, revoked.RevokedAt)
	again, err := s.RevokeAPIKey(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, revoked.RevokedAt, again.RevokedAt, "revoking twice keeps the first time")
	_, _, err = s.ActiveAPIKey(ctx, "k1")
	require.ErrorIs(t, err, store.ErrNotFound, "a revoked key is not active")
	_, _, err = s.ActiveAPIKey(ctx, "k2")
	require.NoError(t, err, "the lender's other key still works")
	_, err = s.RevokeAPIKey(ctx, "k9")
	require.ErrorIs(t, err, store.ErrNotFound)

	all, err := s.ListAPIKeys(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 2)
}

// TestApplicationsPerLender: two lenders may use the same application id; each finds its
// own; an application created before lenders belongs to dev and is found by its id; a
// retry reaches the stored row whatever key it was stored under.
func TestApplicationsPerLender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.Pool(t))
	require.NoError(t, s.EnsureLender(ctx, "acme", ""))
	require.NoError(t, s.EnsureLender(ctx, "zeta", ""))
	app := func(lender, id, hash string) store.Application {
		key := lender + "/" + id
		return store.Application{ID: key, LenderID: lender, ExternalID: id, RequestHash: hash,
			LoanAmountMinor: 1000, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/" + key}
	}
	a, created, err := s.CreateApplication(ctx, app("acme", "loan-1", "ha"))
	require.NoError(t, err)
	require.True(t, created)
	z, created, err := s.CreateApplication(ctx, app("zeta", "loan-1", "hz"))
	require.NoError(t, err)
	require.True(t, created, "another lender's id is another application")
	require.NotEqual(t, a.ID, z.ID)

	got, err := s.GetLenderApplication(ctx, "zeta", "loan-1")
	require.NoError(t, err)
	require.Equal(t, "hz", got.RequestHash)
	_, err = s.GetLenderApplication(ctx, "zeta", "loan-2")
	require.ErrorIs(t, err, store.ErrNotFound)

	legacy, _, err := s.CreateApplication(ctx, store.Application{ID: "old-1", RequestHash: "ho",
		LoanAmountMinor: 1000, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/old-1"})
	require.NoError(t, err)
	require.Equal(t, store.DevLender, legacy.LenderID)
	require.Equal(t, "old-1", legacy.ExternalID)
	retried, created, err := s.CreateApplication(ctx, app(store.DevLender, "old-1", "ho"))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "old-1", retried.ID, "a retry finds the application under the key it was stored with")
	require.Equal(t, "underwrite/old-1", retried.WorkflowID)
	_, err = s.GetLenderApplication(ctx, "acme", "old-1")
	require.ErrorIs(t, err, store.ErrNotFound, "dev's application is not acme's")
}

// TestApplicationStages: created until started; a correction replaces an application that
// never started, not one that did; failed records its cause, a new start clears it, and a
// decided application never becomes failed.
func TestApplicationStages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)
	in := store.Application{ID: "app_2", RequestHash: "h1", LoanAmountMinor: 1000, TermMonths: 12, Currency: "usd", WorkflowID: "underwrite/app_2"}
	_, _, err := s.CreateApplication(ctx, in)
	require.NoError(t, err)

	fixed := in
	fixed.RequestHash, fixed.LoanAmountMinor = "h2", 2000
	got, err := s.ReplaceUnstartedApplication(ctx, fixed)
	require.NoError(t, err)
	require.Equal(t, int64(2000), got.LoanAmountMinor)
	require.Equal(t, "h2", got.RequestHash)

	require.NoError(t, s.MarkApplicationStarted(ctx, "app_2", loan.StageAwaitingLink))
	got, err = s.GetApplication(ctx, "app_2")
	require.NoError(t, err)
	require.Equal(t, loan.StageAwaitingLink, got.Stage)
	_, err = s.ReplaceUnstartedApplication(ctx, in)
	require.ErrorIs(t, err, store.ErrConflict, "a started application keeps its request")

	require.NoError(t, s.MarkApplicationFailed(ctx, "app_2", "invalid_input: currency"))
	got, err = s.GetApplication(ctx, "app_2")
	require.NoError(t, err)
	require.Equal(t, loan.StageFailed, got.Stage)
	require.Equal(t, ptr("invalid_input: currency"), got.FailureCause)
	require.NoError(t, s.MarkApplicationStarted(ctx, "app_2", loan.StageAwaitingLink))
	got, err = s.GetApplication(ctx, "app_2")
	require.NoError(t, err)
	require.Equal(t, loan.StageAwaitingLink, got.Stage)
	require.Nil(t, got.FailureCause, "a new run clears the old failure")
	require.ErrorIs(t, s.MarkApplicationStarted(ctx, "app_missing", loan.StageAwaitingLink), store.ErrNotFound)
	require.NoError(t, s.MarkApplicationFailed(ctx, "app_missing", "x"), "a workflow may fail before its row exists")

	_, err = pool.Exec(ctx, "update applications set stage = 'decided' where id = 'app_1'")
	require.NoError(t, err)
	require.NoError(t, s.MarkApplicationFailed(ctx, "app_1", "late"))
	got, err = s.GetApplication(ctx, "app_1")
	require.NoError(t, err)
	require.Equal(t, loan.StageDecided, got.Stage, "a decided application stays decided")
}

// TestLenderAccountCustomer: a returning customer's account is found only through an
// application of the same lender.
func TestLenderAccountCustomer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := seed(t) // app_1 (dev) linked fca_1 of cus_1
	cus, err := s.LenderAccountCustomer(ctx, store.DevLender, "fca_1")
	require.NoError(t, err)
	require.Equal(t, "cus_1", cus)
	require.NoError(t, s.EnsureLender(ctx, "acme", ""))
	_, err = s.LenderAccountCustomer(ctx, "acme", "fca_1")
	require.ErrorIs(t, err, store.ErrNotFound, "another lender's account is not found")
	_, err = s.LenderAccountCustomer(ctx, store.DevLender, "fca_9")
	require.ErrorIs(t, err, store.ErrNotFound)
}
