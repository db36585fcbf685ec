package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const personaDir = "../../fcsandbox/personas"

// rawLedger reads what the features output is checked against straight from the file.
type rawLedger struct {
	Accounts []struct {
		Account struct {
			ID      string `json:"id"`
			Balance struct {
				AsOf    int64            `json:"as_of"`
				Current map[string]int64 `json:"current"`
			} `json:"balance"`
		} `json:"account"`
		Transactions []struct {
			TransactedAt int64 `json:"transacted_at"`
		} `json:"transactions"`
	} `json:"accounts"`
}

type featuresJSON struct {
	Features      map[string]json.RawMessage `json:"features"`
	DailyBalances map[string][]struct {
		Date         string `json:"date"`
		BalanceMinor int64  `json:"balance_minor"`
	} `json:"daily_balances"`
}

func TestFeaturesCommand(t *testing.T) {
	for _, persona := range []string{"high_income_two_accounts", "steady_salaried"} {
		t.Run(persona, func(t *testing.T) {
			path := personaDir + "/" + persona + ".json"
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			var raw rawLedger
			require.NoError(t, json.Unmarshal(data, &raw))

			var stdout, stderr bytes.Buffer
			require.NoError(t, run(context.Background(), []string{"underwriter", "features", "--ledger", path, "--daily-balances"}, env(nil), &stdout, &stderr))
			var got featuresJSON
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &got))
			for _, k := range []string{"cutoff", "currency", "posted_txn_count", "undefined"} {
				require.Contains(t, got.Features, k)
			}

			var asOf int64
			first := int64(1 << 62)
			var sum int64
			want := []string{"combined"}
			for _, a := range raw.Accounts {
				asOf = max(asOf, a.Account.Balance.AsOf)
				for _, tx := range a.Transactions {
					first = min(first, tx.TransactedAt)
				}
				want = append(want, a.Account.ID)
			}
			day := func(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.DateOnly) }
			require.JSONEq(t, `"`+day(asOf)+`"`, string(got.Features["cutoff"]), "default cutoff: the newest balance.as_of")

			var keys []string
			for k := range got.DailyBalances {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			sort.Strings(want)
			require.Equal(t, want, keys)
			for _, a := range raw.Accounts {
				s := got.DailyBalances[a.Account.ID]
				require.Equal(t, day(first), s[0].Date, "the window starts on the first transaction's day")
				require.Equal(t, day(asOf), s[len(s)-1].Date)
				require.Len(t, a.Account.Balance.Current, 1)
				for _, cur := range a.Account.Balance.Current {
					require.Equal(t, cur, s[len(s)-1].BalanceMinor, "the series ends at balance.current")
					sum += cur
				}
			}
			c := got.DailyBalances["combined"]
			require.Equal(t, sum, c[len(c)-1].BalanceMinor)
			require.Len(t, c, len(got.DailyBalances[raw.Accounts[0].Account.ID]))

			// Without the flag: no daily_balances; an earlier --as-of moves the cutoff.
			stdout.Reset()
			cut := time.Unix(asOf, 0).UTC().AddDate(0, 0, -30).Format(time.DateOnly)
			require.NoError(t, run(context.Background(), []string{"underwriter", "features", "--ledger", path, "--as-of", cut}, env(nil), &stdout, &stderr))
			var top map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &top))
			require.NotContains(t, top, "daily_balances")
			var f map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(top["features"], &f))
			require.JSONEq(t, `"`+cut+`"`, string(f["cutoff"]))
		})
	}
}

func TestFeaturesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no ledger", nil, "ledger: not set"},
		{"missing file", []string{"--ledger", "testdata/nope.json"}, "read ledger"},
		{"not a ledger", []string{"--ledger", "testdata/statement.csv"}, "parse ledger"},
		{"bad as-of", []string{"--ledger", personaDir + "/thin_file.json", "--as-of", "yesterday"}, `as-of: "yesterday" is not a date`},
		{"bad amount", []string{"--ledger", personaDir + "/thin_file.json", "--amount", "0"}, "amount: 0 is not positive"},
		{"bad term", []string{"--ledger", personaDir + "/thin_file.json", "--term-months", "-1"}, "term-months: -1 is not positive"},
		{"missing rules", []string{"--ledger", personaDir + "/thin_file.json", "--rules", "testdata/nope.json"}, "read rules"},
		{"bad rules", []string{"--ledger", personaDir + "/thin_file.json", "--rules", "testdata/statement.csv"}, "rules testdata/statement.csv: invalid category rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"underwriter", "features"}, tc.args...), env(nil), &out, &out)
			require.Error(t, err)
			require.False(t, errors.Is(err, flag.ErrHelp))
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
