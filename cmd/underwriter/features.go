package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
)

// Defaults of the loan that features are computed for; only loan_amount,
// proposed_monthly_payment and payment_to_income depend on it.
const (
	defaultFeaturesLoanMinor = 100000
	defaultFeaturesTerm      = 12
)

// dailyBalance is one day of a daily-balance series in the features output.
type dailyBalance struct {
	Date         string `json:"date"`
	BalanceMinor int64  `json:"balance_minor"`
}

// featuresOutput is what `underwriter features` prints.
type featuresOutput struct {
	Features      scoring.Features          `json:"features"`
	DailyBalances map[string][]dailyBalance `json:"daily_balances,omitempty"`
}

func featuresCommand() command {
	return command{
		name:    "features",
		summary: "Print the cash-flow feature vector (and optionally daily balances) of a ledger file as JSON, offline.",
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			ledger := fs.String("ledger", "", "ledger file (JSON, docs/ledger-format.md)")
			asOf := fs.String("as-of", "", "cutoff day YYYY-MM-DD (UTC); default: the newest balance.as_of in the ledger")
			daily := fs.Bool("daily-balances", false, "also print \"daily_balances\": {\"<account id>\": [{\"date\": \"YYYY-MM-DD\", \"balance_minor\": N}, ...],\n"+
				"\"combined\": [...]}, the end-of-day balances of every cash account with a balance and their sum, from the\n"+
				"first transaction's day to the cutoff, reconstructed backwards from balance.current at balance.as_of")
			amount := fs.Int64("amount", defaultFeaturesLoanMinor, "proposed loan amount in minor units (feeds loan_amount, proposed_monthly_payment, payment_to_income)")
			term := fs.Int("term-months", defaultFeaturesTerm, "proposed loan term in months")
			rulesFile := fs.String("rules", "", "categorisation rules file (JSON, scoring.LoadCategoryRules format) merged over the default rules; its version is added to feature_set_version")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				if *ledger == "" {
					return errors.New("ledger: not set")
				}
				data, err := os.ReadFile(*ledger)
				if err != nil {
					return fmt.Errorf("read ledger: %w", err)
				}
				l, err := scoring.ParseLedgerFile(data)
				if err != nil {
					return fmt.Errorf("parse ledger %s: %w", *ledger, err)
				}
				cutoff := scoring.LatestAsOf(l)
				if *asOf != "" {
					if cutoff, err = time.Parse(time.DateOnly, *asOf); err != nil {
						return fmt.Errorf("as-of: %q is not a date YYYY-MM-DD", *asOf)
					}
				}
				if cutoff.IsZero() {
					return errors.New("as-of: not set, and no account in the ledger has a balance.as_of to default to")
				}
				if *amount <= 0 {
					return fmt.Errorf("amount: %d is not positive", *amount)
				}
				if *term <= 0 {
					return fmt.Errorf("term-months: %d is not positive", *term)
				}
				var opts scoring.FeatureOptions
				if *rulesFile != "" {
					data, err := os.ReadFile(*rulesFile)
					if err != nil {
						return fmt.Errorf("read rules: %w", err)
					}
					rules, err := scoring.LoadUserCategoryRules(data)
					if err != nil {
						return fmt.Errorf("rules %s: %w", *rulesFile, err)
					}
					opts.Rules = &rules
				}
				f, err := scoring.ComputeFeaturesWith(l, cutoff, scoring.Loan{AmountMinor: *amount, TermMonths: *term}, opts)
				if err != nil {
					return fmt.Errorf("compute features: %w", err)
				}
				out := featuresOutput{Features: f}
				if *daily {
					if out.DailyBalances, err = dailyBalanceOutput(l, cutoff); err != nil {
						return err
					}
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("write features: %w", err)
				}
				return nil
			}
		},
	}
}

// dailyBalanceOutput reconstructs EOD balances from the first posted transaction's day
// to the cutoff day (just the cutoff day when there is none before it).
func dailyBalanceOutput(l scoring.Ledger, cutoff time.Time) (map[string][]dailyBalance, error) {
	from := cutoff
	for _, t := range l.Transactions {
		if t.Status == scoring.StatusPosted && t.TransactedAt.Before(from) {
			from = t.TransactedAt
		}
	}
	set, err := scoring.DailyBalances(l, from, cutoff)
	if err != nil {
		return nil, fmt.Errorf("reconstruct daily balances: %w", err)
	}
	series := func(s scoring.BalanceSeries) []dailyBalance {
		out := make([]dailyBalance, len(s.EOD))
		for i, v := range s.EOD {
			out[i] = dailyBalance{Date: s.Start.AddDate(0, 0, i).Format(time.DateOnly), BalanceMinor: v}
		}
		return out
	}
	out := map[string][]dailyBalance{"combined": series(set.Combined)}
	for _, s := range set.Accounts {
		out[s.AccountID] = series(s)
	}
	return out, nil
}
