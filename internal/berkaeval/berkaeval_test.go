package berkaeval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/berkaeval"
)

// berkaDir is the Berka data folder relative to this package (repo root ../shared).
const berkaDir = "../../../shared/data/berka"

// TestBerkaReport evaluates the scorecard on the Berka loans and logs the report
// (issue 8 point 6). The counts are those of ../shared/data/berka/README.md: 477 loans,
// 109 on accounts with transactions (A 74, B 13, C 18, D 4), every one of them with at
// least 105 days of history; 84 were granted after 1994-03-30. It asserts no
// performance bar: only what a wrong loader or a wrong evaluation would break.
func TestBerkaReport(t *testing.T) {
	t.Parallel()
	d, err := berkaeval.Load(berkaDir)
	require.NoError(t, err, "the Berka data must be at %s", berkaDir)
	r, err := berkaeval.Evaluate(d, berkaeval.Options{})
	require.NoError(t, err)
	t.Log("\n" + r.Text())

	require.Equal(t, 477, r.LoansInFile)
	require.Equal(t, 109, r.WithRows)
	require.Equal(t, 109, r.Loans)
	require.Equal(t, 17, r.Defaults)
	require.Equal(t, map[string]int{"A": 74, "B": 13, "C": 18, "D": 4}, r.ByStatus)
	require.Equal(t, "1994-03-30", r.DataEnd.Format(time.DateOnly))
	require.Equal(t, 84, r.AfterData)
	require.Equal(t, 577, r.MaxGapDays, "loan 7176 of 1995-10-28")

	for name, e := range map[string]berkaeval.Estimate{"trained": r.Trained, "shipped": r.Shipped} {
		require.True(t, 0 <= e.Low && e.Low <= e.AUC && e.AUC <= e.High && e.High <= 1, "%s: %+v", name, e)
		require.Less(t, e.Low, e.High, "%s: 109 loans cannot give a degenerate interval", name)
	}
	require.True(t, r.RepeatMin <= r.Trained.AUC && r.Trained.AUC <= r.RepeatMax, "the mean lies within the repeats")
	require.Less(t, r.RepeatMin, r.RepeatMax, "other shuffles give other folds")
	require.Positive(t, r.KeptMean)

	d2, err := berkaeval.Load(berkaDir)
	require.NoError(t, err)
	r2, err := berkaeval.Evaluate(d2, berkaeval.Options{})
	require.NoError(t, err)
	require.Equal(t, r, r2, "the evaluation is deterministic")
}

// TestBerkaHistoryStopsBeforeTheLoan checks two loans by hand from the files.
//
// Loan 5314 (account 1787, granted 1993-07-05, status B): the account's first row is
// 1993-03-22 (105 days before); four rows precede the loan date, the last on
// 1993-06-20 with balance 20100.00; the next, 1993-07-08, is after it.
//
// Loan 7176 (account 10663, granted 1995-10-28, status A): all ten rows of the account
// precede it (1993-12-08 … 1994-03-08); trans.asc ends on
// 1994-03-30, the cutoff.
func TestBerkaHistoryStopsBeforeTheLoan(t *testing.T) {
	t.Parallel()
	d, err := berkaeval.Load(berkaDir)
	require.NoError(t, err)
	byID := map[string]berkaeval.Sample{}
	for _, s := range d.Samples {
		byID[s.Loan.ID] = s
	}
	for _, c := range []struct {
		loan, cutoff string
		txns         int
		defaulted    bool
	}{
		{"5314", "1993-07-04", 4, true},
		{"7176", "1994-03-30", 10, false},
	} {
		s, ok := byID[c.loan]
		require.True(t, ok, c.loan)
		require.Equal(t, c.cutoff, s.Cutoff.Format(time.DateOnly), c.loan)
		require.Equal(t, c.cutoff, s.Features.Cutoff, c.loan)
		require.Equal(t, c.txns, s.Features.PostedTxnCount, c.loan)
		require.Equal(t, c.defaulted, s.Loan.Defaulted(), c.loan)
		require.Equal(t, "czk", s.Features.Currency, c.loan)
	}
}
