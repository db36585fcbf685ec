package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/store"
)

func bookable(app string) store.Loan {
	return store.Loan{ApplicationID: app, AmountMinor: 300000, Currency: "usd", TermMonths: 12,
		FirstDue: time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC), InstalmentMinor: 25000,
		WorkflowID: "monitor/" + app}
}

// TestCreateLoan: booking stores the loan with the application's lender; the same terms
// again find it; other terms conflict; an unknown application is not found.
func TestCreateLoan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := seed(t)

	l := bookable("app_1")
	l.LenderID = "someone-else"
	// A first due given in another zone is stored as its UTC day.
	l.FirstDue = time.Date(2025, 3, 15, 23, 0, 0, 0, time.FixedZone("x", -3600))
	got, created, err := s.CreateLoan(ctx, l)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, store.DevLender, got.LenderID, "the lender is the application's")
	require.Equal(t, store.LoanActive, got.Status)
	require.Nil(t, got.ClosedAt)
	require.Equal(t, time.Date(2025, 3, 16, 0, 0, 0, 0, time.UTC), got.FirstDue.UTC())
	require.Equal(t, "monitor/app_1", got.WorkflowID)

	again, created, err := s.CreateLoan(ctx, l)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, got, again)

	other := l
	other.InstalmentMinor = 26000
	stored, created, err := s.CreateLoan(ctx, other)
	require.ErrorIs(t, err, store.ErrLoanConflict)
	require.ErrorIs(t, err, store.ErrConflict)
	require.False(t, created)
	require.Equal(t, got, stored)
	other = l
	other.FirstDue = l.FirstDue.AddDate(0, 0, 1)
	_, _, err = s.CreateLoan(ctx, other)
	require.ErrorIs(t, err, store.ErrLoanConflict, "another first due day is other terms")

	_, _, err = s.CreateLoan(ctx, bookable("nope"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetLoan(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)

	bad := bookable("app_1")
	bad.ApplicationID = "app_2"
	_, _, err = s.CreateApplication(ctx, store.Application{ID: "app_2", RequestHash: "h2",
		LoanAmountMinor: 1000, TermMonths: 3, Currency: "usd", WorkflowID: "underwrite/app_2"})
	require.NoError(t, err)
	bad.TermMonths = 361
	_, _, err = s.CreateLoan(ctx, bad)
	require.ErrorContains(t, err, "loans_term_months_check", "the table keeps loan.Validate's bounds")
}

// TestCloseLoan: the first close wins and later ones return it unchanged; the closed loan
// no longer counts as watching its account.
func TestCloseLoan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := seed(t)
	_, _, err := s.CreateLoan(ctx, bookable("app_1"))
	require.NoError(t, err)

	ids, err := s.ActiveLoansForAccount(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, []string{"app_1"}, ids)
	ids, err = s.ActiveLoansForAccount(ctx, "fca_other")
	require.NoError(t, err)
	require.Empty(t, ids)
	require.NotNil(t, ids)

	_, err = s.CloseLoan(ctx, "app_1", store.LoanActive)
	require.ErrorContains(t, err, "not a close reason")
	_, err = s.CloseLoan(ctx, "app_1", "sold")
	require.ErrorContains(t, err, "loans_status_check")

	closed, err := s.CloseLoan(ctx, "app_1", store.LoanRepaid)
	require.NoError(t, err)
	require.Equal(t, store.LoanRepaid, closed.Status)
	require.NotNil(t, closed.ClosedAt)

	again, err := s.CloseLoan(ctx, "app_1", store.LoanTermEnded)
	require.NoError(t, err)
	require.Equal(t, closed, again, "the first close wins")

	ids, err = s.ActiveLoansForAccount(ctx, "fca_1")
	require.NoError(t, err)
	require.Empty(t, ids)

	_, err = s.CloseLoan(ctx, "nope", store.LoanRepaid)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestActiveLoansForSharedAccount: a returning customer's account linked to two booked
// applications reaches both watchers.
func TestActiveLoansForSharedAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := seed(t)
	_, _, err := s.CreateApplication(ctx, store.Application{ID: "app_2", RequestHash: "h2",
		LoanAmountMinor: 1000, TermMonths: 3, Currency: "usd", WorkflowID: "underwrite/app_2"})
	require.NoError(t, err)
	require.NoError(t, s.UpsertAccount(ctx, store.Account{
		ID: "fca_1", ApplicationID: "app_2", CustomerID: "cus_1", Category: "cash",
		Subcategory: "checking", Status: "active", InstitutionName: "Bank", Currency: "usd",
	}))
	for _, app := range []string{"app_2", "app_1"} {
		_, _, err := s.CreateLoan(ctx, bookable(app))
		require.NoError(t, err)
	}
	ids, err := s.ActiveLoansForAccount(ctx, "fca_1")
	require.NoError(t, err)
	require.Equal(t, []string{"app_1", "app_2"}, ids)
}

func TestLenderAlertWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := seed(t)
	require.NoError(t, s.EnsureLender(ctx, "acme", ""))

	url, err := s.LenderAlertWebhook(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, url, "a lender has no URL until one is set")

	require.NoError(t, s.SetLenderAlertWebhook(ctx, "acme", "https://acme.example/alerts"))
	url, err = s.LenderAlertWebhook(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "https://acme.example/alerts", url)
	url, err = s.LenderAlertWebhook(ctx, store.DevLender)
	require.NoError(t, err)
	require.Empty(t, url, "another lender's URL is its own")

	require.NoError(t, s.SetLenderAlertWebhook(ctx, "acme", ""))
	url, err = s.LenderAlertWebhook(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, url, "an empty URL removes it")

	require.ErrorIs(t, s.SetLenderAlertWebhook(ctx, "nobody", "https://x.example"), store.ErrNotFound)
	_, err = s.LenderAlertWebhook(ctx, "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func alert(typ, key string, day int) store.Alert {
	return store.Alert{EventType: typ, EventKey: key, EventDate: time.Date(2025, 4, day, 0, 0, 0, 0, time.UTC),
		Text: typ + " text", Evidence: json.RawMessage(`[{"kind":"transaction","id":"fctxn_` + key + `","amount_minor":-500}]`),
		Rescore:                 json.RawMessage(`{"pd":0.1}`),
		MonitoringPolicyVersion: "mon-v1", LedgerAsOf: time.Date(2025, 4, day, 12, 0, 0, 0, time.UTC)}
}

// TestRecordAlerts: each event is stored once per loan and key; recording again returns
// the stored rows with their ids, in the order asked; delivery is recorded once.
func TestRecordAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := seed(t)

	_, err := s.RecordAlerts(ctx, "app_1", []store.Alert{alert("LOW_BALANCE", "k1", 2)})
	require.Error(t, err, "an application with no booked loan has no alerts")
	_, _, err = s.CreateLoan(ctx, bookable("app_1"))
	require.NoError(t, err)

	none, err := s.RecordAlerts(ctx, "app_1", nil)
	require.NoError(t, err)
	require.Empty(t, none)

	first, err := s.RecordAlerts(ctx, "app_1", []store.Alert{alert("LOW_BALANCE", "k1", 2), alert("LARGE_DEPOSIT", "k2", 3)})
	require.NoError(t, err)
	require.Len(t, first, 2)
	require.NotZero(t, first[0].ID)
	require.Equal(t, "k1", first[0].EventKey)
	require.Equal(t, "app_1", first[0].ApplicationID)
	require.Equal(t, time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC), first[0].EventDate.UTC())
	require.JSONEq(t, `[{"kind":"transaction","id":"fctxn_k1","amount_minor":-500}]`, string(first[0].Evidence))
	require.JSONEq(t, `{"pd":0.1}`, string(first[0].Rescore))
	require.Nil(t, first[0].DeliveredAt)

	changed := alert("LARGE_DEPOSIT", "k2", 3)
	changed.Text = "a later check's wording"
	noEvidence := alert("ACCOUNT_DISCONNECTED", "k3", 4)
	noEvidence.Evidence, noEvidence.Rescore, noEvidence.Hint = nil, nil, "relink"
	second, err := s.RecordAlerts(ctx, "app_1", []store.Alert{noEvidence, changed, alert("LOW_BALANCE", "k1", 2)})
	require.NoError(t, err)
	require.Equal(t, []string{"k3", "k2", "k1"}, []string{second[0].EventKey, second[1].EventKey, second[2].EventKey})
	require.Equal(t, first[1], second[1], "a stored alert is returned as stored")
	require.Equal(t, first[0], second[2])
	require.JSONEq(t, `[]`, string(second[0].Evidence))
	require.Nil(t, second[0].Rescore)
	require.Equal(t, "relink", second[0].Hint)
	require.Equal(t, 3, countRows(t, pool, "loan_alerts"))

	listed, err := s.ListAlerts(ctx, "app_1")
	require.NoError(t, err)
	require.Equal(t, []store.Alert{first[0], first[1], second[0]}, listed, "oldest first")
	listed, err = s.ListAlerts(ctx, "app_2")
	require.NoError(t, err)
	require.NotNil(t, listed)
	require.Empty(t, listed)

	id := first[0].ID
	require.NoError(t, s.RecordAlertDeliveryFailure(ctx, id, "lender endpoint answered 503"))
	require.NoError(t, s.MarkAlertDelivered(ctx, id))
	got, err := s.GetAlert(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, got.DeliveredAt)
	require.Equal(t, 2, got.DeliveryAttempts)
	require.Equal(t, "lender endpoint answered 503", *got.LastDeliveryError)

	require.NoError(t, s.MarkAlertDelivered(ctx, id), "delivering twice is not an error")
	require.NoError(t, s.RecordAlertDeliveryFailure(ctx, id, "late"), "a delivered alert ignores failures")
	again, err := s.GetAlert(ctx, id)
	require.NoError(t, err)
	require.Equal(t, got, again, "a delivered alert keeps its first delivery")

	_, err = s.GetAlert(ctx, 999999)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.MarkAlertDelivered(ctx, 999999), store.ErrNotFound)
	require.ErrorIs(t, s.RecordAlertDeliveryFailure(ctx, 999999, "x"), store.ErrNotFound)
}
