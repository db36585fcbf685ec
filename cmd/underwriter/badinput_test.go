package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// This file is issue 9's "bad input, every entry point" for the commands: ledger files,
// CSV imports, model and policy files, and configuration. The packages' own tables
// (ledger, ledger/csv, scoring) list every message; these check that the commands pass
// them on naming the file, and that nothing already accepted is lost.

// runIn runs the command line args with environment e and returns stdout and the error.
func runIn(t *testing.T, e map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"underwriter"}, args...), env(e), &out, &errOut)
	return out.String(), err
}

// badLedgers writes one malformed ledger file per entry into dir and returns their paths.
func badLedgers(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{
		"notjson":   `{"accounts": [`,
		"amount":    `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[{"id":"t","account":"fca_1","amount":"12.00","currency":"usd","status":"posted","transacted_at":1}]}]}`,
		"currency":  `{"accounts":[{"account":{"id":"fca_1","category":"cash","balance":{"as_of":1700000000,"current":{"usd":5}}},"transactions":[{"id":"t","account":"fca_1","amount":1,"currency":"dollars","status":"posted","transacted_at":1}]}]}`,
		"noamount":  `{"accounts":[{"account":{"id":"fca_1","category":"cash","balance":{"as_of":1700000000,"current":{"usd":5}}},"transactions":[{"id":"t","account":"fca_1","currency":"usd","status":"posted","transacted_at":1}]}]}`,
		"nobalance": `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[{"id":"t","account":"fca_1","amount":1,"currency":"usd","status":"posted","transacted_at":1}]}]}`,
	}
	paths := map[string]string{}
	for name, doc := range files {
		paths[name] = filepath.Join(dir, name+".json")
		require.NoError(t, os.WriteFile(paths[name], []byte(doc), 0o644))
	}
	return paths
}

// TestBadInputLedgerFiles: `score` and `features` refuse a malformed ledger naming the
// file, the object path and the field, and print nothing.
func TestBadInputLedgerFiles(t *testing.T) {
	t.Parallel()
	bad := badLedgers(t, t.TempDir())
	for _, c := range []struct {
		name, file, want string
	}{
		{"not JSON", bad["notjson"], "invalid ledger: decode ledger file: line 1, column 15: unexpected end of JSON input"},
		{"amount a string", bad["amount"], "invalid ledger: decode ledger file: accounts.transactions.amount: got string, want an integer"},
		{"currency not a code", bad["currency"], `invalid ledger: accounts[0].transactions[0].currency: "dollars" is not a three-letter ISO 4217 code`},
		{"missing amount", bad["noamount"], "invalid ledger: accounts[0].transactions[0].amount: missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, err := runIn(t, nil, "score", "--ledger", c.file, "--amount", "100000", "--term-months", "12")
			require.EqualError(t, err, "parse ledger "+c.file+": "+c.want)
			require.Empty(t, out)
			out, err = runIn(t, nil, "features", "--ledger", c.file)
			require.EqualError(t, err, "parse ledger "+c.file+": "+c.want)
			require.Empty(t, out)
		})
	}
	// A valid ledger with no balance has no default cutoff: the message says what to pass.
	_, err := runIn(t, nil, "score", "--ledger", bad["nobalance"], "--amount", "100000", "--term-months", "12")
	require.EqualError(t, err, "ledger "+bad["nobalance"]+": no account has a balance as_of; pass --as-of")
	_, err = runIn(t, nil, "features", "--ledger", bad["nobalance"])
	require.EqualError(t, err, "as-of: not set, and no account in the ledger has a balance.as_of to default to")
}

// TestBadInputScoreBatchKeepsGoodResults: in a batch, a bad ledger is one error line in
// its place and every good application's decision is still printed, in input order; the
// command then fails with the count. A bad applications row stops the batch after every
// earlier line was printed.
func TestBadInputScoreBatchKeepsGoodResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(scorePersonaDir, loadPersonas(t)[0].Ledger))
	require.NoError(t, err)
	for _, id := range []string{"a1", "a3", "a5"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, id+".json"), good, 0o644))
	}
	bad := badLedgers(t, t.TempDir())
	data, err := os.ReadFile(bad["currency"])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a2.json"), data, 0o644))
	apps := filepath.Join(t.TempDir(), "apps.csv")
	require.NoError(t, os.WriteFile(apps, []byte("applicant_id,loan_amount_minor,term_months\na1,300000,12\na2,300000,12\na3,300000,12\na4,300000,12\na5,300000,12\n"), 0o644))

	out, err := runIn(t, nil, "score", "--ledgers", dir, "--applications", apps, "--workers", "2")
	require.EqualError(t, err, "score applications: 2 of 5 could not be scored (see their error lines)")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 5)
	for i, want := range []string{"a1", "a2", "a3", "a4", "a5"} {
		var line map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &line))
		require.Equal(t, want, line["applicant_id"])
		switch want {
		case "a2":
			require.Equal(t, "parse ledger "+filepath.Join(dir, "a2.json")+`: invalid ledger: accounts[0].transactions[0].currency: "dollars" is not a three-letter ISO 4217 code`, line["error"])
		case "a4":
			require.Equal(t, "read ledger: open "+filepath.Join(dir, "a4.json")+": no such file or directory", line["error"])
		default:
			require.Contains(t, line, "outcome", "a good application keeps its decision")
		}
	}

	// A bad row of the applications file: every line before it is printed.
	require.NoError(t, os.WriteFile(apps, []byte("applicant_id,loan_amount_minor,term_months\na1,300000,12\na3,3000.00,12\na5,300000,12\n"), 0o644))
	out, err = runIn(t, nil, "score", "--ledgers", dir, "--applications", apps)
	require.EqualError(t, err, "score applications (1 printed): "+apps+` line 3 column 4 (loan_amount_minor): "3000.00" is not a positive integer`)
	require.Equal(t, 1, strings.Count(out, "\n"))
	require.Contains(t, out, `"applicant_id":"a1"`)
}

// TestBadInputImportCSVKeepsOutput: a refused import names the line and column and
// leaves an existing --out file exactly as it was, with no temporary file beside it;
// a refused Berka import writes no file into --out-dir.
func TestBadInputImportCSVKeepsOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "ledger.json")
	before := []byte(`{"accounts": "an earlier import, to be kept"}`)
	require.NoError(t, os.WriteFile(out, before, 0o644))
	in := filepath.Join(dir, "in.csv")
	for _, c := range []struct {
		name, csv string
		flags     []string
		want      string
	}{
		{"bad amount", "date,amount\n2024-01-01,10\n2024-01-02,12.3x\n", nil,
			`convert ` + in + `: line 3, column amount: "12.3x" is not a number`},
		{"bad date", "date,amount\n01/02/2024,10\n", nil,
			`convert ` + in + `: line 2, column date: "01/02/2024" is not a date in the format 2006-01-02`},
		{"column not in header", "day,amount\n2024-01-01,10\n", nil,
			`convert ` + in + `: bad column mapping: date column: column "date" is not in the header (day, amount)`},
		{"bad currency flag", "date,amount\n2024-01-01,10\n", []string{"--currency", "dollars"},
			`convert ` + in + `: bad column mapping: currency: "dollars" is not a three-letter ISO 4217 code`},
		{"bad current balance flag", "date,amount\n2024-01-01,10\n", []string{"--current-balance", "1,000"},
			`current-balance: "1,000" is not a number`},
		{"bad delimiter flag", "date,amount\n2024-01-01,10\n", []string{"--delimiter", ";;"},
			`delimiter: ";;" is not one character other than a quote or a newline`},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(in, []byte(c.csv), 0o644))
			args := append([]string{"ledger", "import-csv", "--in", in, "--out", out, "--amount-column", "amount"}, c.flags...)
			if !strings.Contains(strings.Join(c.flags, " "), "--currency ") {
				args = append(args, "--currency", "usd")
			}
			_, err := runIn(t, nil, args...)
			require.EqualError(t, err, c.want)
			after, err := os.ReadFile(out)
			require.NoError(t, err)
			require.Equal(t, before, after, "the earlier file is kept")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 2, "no temporary file is left: %v", entries)
		})
	}

	berka := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(berka, "trans.asc"), []byte(
		`"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"`+"\n"+
			`"1";"1";"930101";"PRIJEM";"VKLAD";"1000.0";"1000.0";"";"";""`+"\n"+
			`"2";"2";"930101";"PRIJEM";"VKLAD";"1000.0";"1000.0";"";"";""`+"\n"+
			`"3";"2";"930102";"OUT";"VYBER";"1.0";"999.0";"";"";""`+"\n"), 0o644))
	outDir := filepath.Join(t.TempDir(), "ledgers")
	_, err := runIn(t, nil, "ledger", "import-csv", "--format", "berka", "--dir", berka, "--out-dir", outDir)
	require.EqualError(t, err, `line 4, column type: "OUT" is not PRIJEM, VYDAJ or VYBER`)
	_, err = os.Stat(outDir)
	require.True(t, os.IsNotExist(err), "a refused Berka file writes no account, not even the good account 1")
}

// TestBadInputModelAndPolicyFlags: a bad --model or --policy file (or
// UNDERWRITER_MODEL_FILE / UNDERWRITER_POLICY_FILE) stops `score` before any ledger is
// read, naming the file and the field, and prints nothing.
func TestBadInputModelAndPolicyFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
		return p
	}
	truncated := write("truncated.json", `{"model_version": "v9",`)
	noFeatureSet := write("nofs.json", `{"model_version": "v9"}`)
	unknownField := write("unknown.json", `{"policy_version": "p9", "cutoff": 570}`)
	badBands := write("bands.json", `{"policy_version": "p9", "rules": [], "score_bands": {"approve_min": 500, "refer_min": 600}}`)
	v1Model, err := os.ReadFile("../../scoring/models/scorecard-v1.json")
	require.NoError(t, err)
	v1 := write("v1.json", string(v1Model))
	v3Rule := write("v3rule.json", `{"policy_version": "p9", "rules": [{"rule": "NSF_EXCESS", "threshold": 3, "action": "decline", "feature": "savings_transfer_net_monthly_6m", "reason_text": "t"}], "score_bands": {"approve_min": 600, "refer_min": 500}}`)
	missing := filepath.Join(dir, "missing.json")
	ledger := filepath.Join(scorePersonaDir, loadPersonas(t)[0].Ledger)
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"model file missing", nil, []string{"--model", missing}, "model file: open " + missing + ": no such file or directory"},
		{"model file truncated", nil, []string{"--model", truncated},
			"load model file " + truncated + ": invalid model: decode model file: line 1, column 24: unexpected end of JSON input"},
		{"model file from the environment", map[string]string{"UNDERWRITER_MODEL_FILE": noFeatureSet}, nil,
			"load model file " + noFeatureSet + ": invalid model: feature_set_version: empty"},
		{"policy file with an unknown field", nil, []string{"--policy", unknownField},
			"load policy file " + unknownField + `: invalid policy: decode policy file: json: unknown field "cutoff"`},
		{"policy file from the environment", map[string]string{"UNDERWRITER_POLICY_FILE": badBands}, nil,
			"load policy file " + badBands + ": invalid policy: score_bands: approve_min 500 is below refer_min 600"},
		{"policy naming a feature the model's feature set lacks", nil, []string{"--model", v1, "--policy", v3Rule},
			"model file " + v1 + " with policy file " + v3Rule + `: new engine: policy p9 rule NSF_EXCESS: feature "savings_transfer_net_monthly_6m" is not in feature set fs-v2/cat-v1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, err := runIn(t, c.env, append([]string{"score", "--ledger", ledger, "--amount", "100000", "--term-months", "12"}, c.args...)...)
			require.EqualError(t, err, c.want)
			require.Empty(t, out)
		})
	}
}

// TestBadInputTrainKeepsTheEarlierModel: a training run that fails on a bad ledger
// names it and leaves the earlier run's model file, card and scores as they were.
func TestBadInputTrainKeepsTheEarlierModel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, apps, labels := writeTrainingSet(t, dir, rand.New(rand.NewPCG(3, 4)), 30, "app", func(*rand.Rand) int64 { return 200000 })
	out := filepath.Join(t.TempDir(), "model")
	require.NoError(t, os.MkdirAll(out, 0o755))
	earlier := map[string][]byte{}
	for _, name := range []string{"scorecard-t1.json", "MODEL_CARD-t1.md", "scores-t1.csv"} {
		earlier[name] = []byte("earlier run's " + name)
		require.NoError(t, os.WriteFile(filepath.Join(out, name), earlier[name], 0o644))
	}
	bad := filepath.Join(dir, "app0007.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"accounts":[{"account":{"id":"fca_1","category":"savings"}}]}`), 0o644))

	_, err := runIn(t, nil, "train", "--ledgers", dir, "--applications", apps, "--labels", labels, "--out", out, "--model-version", "t1")
	require.EqualError(t, err, "compute features: applicant app0007: parse ledger "+bad+`: invalid ledger: accounts[0].account.category: unknown value "savings"`)
	for name, want := range earlier {
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		require.Equal(t, want, got, name)
	}
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	require.Len(t, entries, 3)
}

// tripwire is a TCP listener standing in for Postgres, Temporal or Stripe: it counts the
// connections made to it and closes each at once, so a test can assert that a command
// stopped before connecting anywhere.
type tripwire struct {
	ln    net.Listener
	conns atomic.Int64
}

func newTripwire(t *testing.T) *tripwire {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	w := &tripwire{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			w.conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return w
}

func (w *tripwire) addr() string { return w.ln.Addr().String() }

// TestBadInputConfiguration is issue 9's table for configuration: each bad setting of
// worker, api, migrate, sandbox, dev and deploy stops the command at start, before it connects
// to Postgres, Temporal or Stripe or listens, with a message naming the environment
// variable or the flag and the problem.
func TestBadInputConfiguration(t *testing.T) {
	t.Parallel()
	db, temporal, stripe := newTripwire(t), newTripwire(t), newTripwire(t)
	base := map[string]string{
		"DATABASE_URL":                 "postgres://underwriter:pw@" + db.addr() + "/underwriter?connect_timeout=2",
		"TEMPORAL_ADDRESS":             temporal.addr(),
		"STRIPE_SECRET_KEY":            "sk_test_config",
		"STRIPE_API_BASE":              "http://" + stripe.addr(),
		"STRIPE_WEBHOOK_SECRET":        "whsec_config",
		"UNDERWRITER_REQUEST_HASH_KEY": "request-hash-key-of-the-configuration-test",
	}
	with := func(kv ...string) map[string]string {
		e := map[string]string{}
		for k, v := range base {
			e[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	missingCert := filepath.Join(t.TempDir(), "client.pem")
	type tc struct {
		name string
		env  map[string]string
		args []string
		want string
	}
	var cases []tc
	// The settings worker and api share (config.go).
	for _, cmd := range []string{"worker", "api"} {
		cases = append(cases,
			tc{cmd + ": no DATABASE_URL", with("DATABASE_URL", ""), []string{cmd}, "DATABASE_URL: not set"},
			tc{cmd + ": DATABASE_URL with a bad port", with("DATABASE_URL", "postgres://u:secret@"+"127.0.0.1:54x2/db"), []string{cmd},
				"DATABASE_URL: cannot parse `postgres://u:xxxxx@127.0.0.1:54x2/db`: invalid port"},
			tc{cmd + ": DATABASE_URL host:port only", with("DATABASE_URL", "localhost:5432"), []string{cmd},
				"DATABASE_URL: cannot parse `localhost:5432`: failed to parse as keyword/value (invalid keyword/value)"},
			tc{cmd + ": --database-url sslmode", base, []string{cmd, "--database-url", "postgres://u@127.0.0.1:1/db?sslmode=sometimes"},
				"DATABASE_URL: cannot parse `postgres://u@127.0.0.1:1/db?sslmode=sometimes`: failed to configure TLS (sslmode is invalid)"},
			tc{cmd + ": no STRIPE_SECRET_KEY", with("STRIPE_SECRET_KEY", ""), []string{cmd},
				"STRIPE_SECRET_KEY: not set (a Stripe secret key sk_test_… or sk_live_…)"},
			tc{cmd + ": a publishable key", with("STRIPE_SECRET_KEY", "pk_test_abc"), []string{cmd},
				"STRIPE_SECRET_KEY: not a secret key (sk_test_…, sk_live_…) or a restricted key (rk_…)"},
			tc{cmd + ": STRIPE_API_BASE without a scheme", with("STRIPE_API_BASE", stripe.addr()), []string{cmd},
				fmt.Sprintf("stripe-api-base (STRIPE_API_BASE): %q is not an http(s) URL such as http://127.0.0.1:12110", stripe.addr())},
			tc{cmd + ": TEMPORAL_ADDRESS without a port", with("TEMPORAL_ADDRESS", "temporal.internal"), []string{cmd},
				`temporal-address (TEMPORAL_ADDRESS): "temporal.internal" is not host:port`},
			tc{cmd + ": --temporal-address with a named port", base, []string{cmd, "--temporal-address", "127.0.0.1:grpc"},
				`temporal-address (TEMPORAL_ADDRESS): "127.0.0.1:grpc": port "grpc" is not a number in 1…65535`},
			tc{cmd + ": --temporal-namespace empty", base, []string{cmd, "--temporal-namespace", ""},
				"temporal-namespace (TEMPORAL_NAMESPACE): empty"},
			tc{cmd + ": TEMPORAL_TLS_CERT without its key", with("TEMPORAL_TLS_CERT", missingCert), []string{cmd},
				"TEMPORAL_TLS_KEY: not set, and TEMPORAL_TLS_CERT is: an mTLS client certificate needs its key"},
			tc{cmd + ": TEMPORAL_TLS_CERT missing", with("TEMPORAL_TLS_CERT", missingCert, "TEMPORAL_TLS_KEY", missingCert), []string{cmd},
				"TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: open " + missingCert + ": no such file or directory"},
			tc{cmd + ": UNDERWRITER_LOG_LEVEL", with("UNDERWRITER_LOG_LEVEL", "verbose"), []string{cmd},
				`log-level (UNDERWRITER_LOG_LEVEL): "verbose" is not debug, info, warn or error`},
			tc{cmd + ": --log-format", base, []string{cmd, "--log-format", "logfmt"},
				`log-format (UNDERWRITER_LOG_FORMAT): "logfmt" is not json or text`},
		)
	}
	cases = append(cases,
		tc{"worker: TEMPORAL_TLS not a boolean", with("TEMPORAL_TLS", "yes please"), []string{"worker"},
			`TEMPORAL_TLS: "yes please" is not true or false`},
		tc{"worker: --max-concurrent-activities negative", base, []string{"worker", "--max-concurrent-activities", "-1"},
			"max-concurrent-activities: -1 is negative"},
		tc{"worker: --max-concurrent-activities not a number", base, []string{"worker", "--max-concurrent-activities", "many"},
			`invalid value "many" for flag -max-concurrent-activities: parse error`},
		tc{"worker: --deployment-name with a dot", base, []string{"worker", "--deployment-name", "underwriter.eu"},
			`deployment-name (UNDERWRITER_DEPLOYMENT_NAME): "underwriter.eu" contains '.' or ':', which Temporal's version strings use as delimiters`},
		tc{"worker: UNDERWRITER_BUILD_ID reserved", with("UNDERWRITER_BUILD_ID", "__v2"), []string{"worker"},
			`build-id (UNDERWRITER_BUILD_ID): "__v2" starts with "__", which Temporal reserves`},
		tc{"worker: --build-id empty", base, []string{"worker", "--build-id", ""},
			"build-id (UNDERWRITER_BUILD_ID): empty: a versioned worker needs a build id"},
		tc{"worker: UNDERWRITER_SET_CURRENT_IF_NONE not a boolean", with("UNDERWRITER_SET_CURRENT_IF_NONE", "maybe"), []string{"worker"},
			`UNDERWRITER_SET_CURRENT_IF_NONE: "maybe" is not true or false`},
		tc{"worker: UNDERWRITER_STRIPE_RATE_LIMIT zero", with("UNDERWRITER_STRIPE_RATE_LIMIT", "0"), []string{"worker"},
			`stripe-rate-limit (UNDERWRITER_STRIPE_RATE_LIMIT): "0" is not a number of requests a second (above 0, at most 10000) or off`},
		tc{"api: --stripe-rate-limit negative", base, []string{"api", "--stripe-rate-limit", "-5"},
			`stripe-rate-limit (UNDERWRITER_STRIPE_RATE_LIMIT): "-5" is not a number of requests a second (above 0, at most 10000) or off`},
		tc{"worker: --stripe-rate-limit not a number", base, []string{"worker", "--stripe-rate-limit", "fast"},
			`stripe-rate-limit (UNDERWRITER_STRIPE_RATE_LIMIT): "fast" is not a number of requests a second (above 0, at most 10000) or off`},
		tc{"deploy set-current: no --build-id", base, []string{"deploy", "set-current"},
			"--build-id: not set (a build id from `underwriter deploy status`)"},
		tc{"deploy set-current: TEMPORAL_ADDRESS without a port", with("TEMPORAL_ADDRESS", "temporal.internal"), []string{"deploy", "set-current", "--build-id", "v2"},
			`temporal-address (TEMPORAL_ADDRESS): "temporal.internal" is not host:port`},
		tc{"deploy status: UNDERWRITER_DEPLOYMENT_NAME with a colon", with("UNDERWRITER_DEPLOYMENT_NAME", "underwriter:eu"), []string{"deploy", "status"},
			`deployment-name (UNDERWRITER_DEPLOYMENT_NAME): "underwriter:eu" contains '.' or ':', which Temporal's version strings use as delimiters`},
		tc{"deploy status: --deployment-name empty", base, []string{"deploy", "status", "--deployment-name", ""},
			"deployment-name (UNDERWRITER_DEPLOYMENT_NAME): empty"},
		tc{"api: no STRIPE_WEBHOOK_SECRET", with("STRIPE_WEBHOOK_SECRET", " , "), []string{"api"},
			"STRIPE_WEBHOOK_SECRET: not set (the webhook endpoint's signing secret whsec_…)"},
		tc{"api: UNDERWRITER_LINK_TIMEOUT not a duration", with("UNDERWRITER_LINK_TIMEOUT", "1 day"), []string{"api"},
			`UNDERWRITER_LINK_TIMEOUT: "1 day" is not a duration such as 30m or 24h`},
		tc{"api: UNDERWRITER_REACTIVATION_TIMEOUT negative", with("UNDERWRITER_REACTIVATION_TIMEOUT", "-5m"), []string{"api"},
			`UNDERWRITER_REACTIVATION_TIMEOUT: "-5m" is not a duration such as 30m or 24h`},
		tc{"api: --link-timeout negative", base, []string{"api", "--link-timeout", "-1h"},
			"link-timeout: -1h0m0s is negative"},
		tc{"api: --link-timeout without a unit", base, []string{"api", "--link-timeout", "24"},
			`invalid value "24" for flag -link-timeout: parse error`},
		tc{"api: TEMPORAL_TLS not a boolean", with("TEMPORAL_TLS", "yes please"), []string{"api"},
			`TEMPORAL_TLS: "yes please" is not true or false`},
		tc{"api: UNDERWRITER_API_ADDR without a port", with("UNDERWRITER_API_ADDR", "0.0.0.0"), []string{"api"},
			`addr (UNDERWRITER_API_ADDR): "0.0.0.0" is not host:port`},
		tc{"api: --addr with a port out of range", base, []string{"api", "--addr", "127.0.0.1:0x50"},
			`addr (UNDERWRITER_API_ADDR): "127.0.0.1:0x50": port "0x50" is not a number in 0…65535`},
		tc{"api: no UNDERWRITER_REQUEST_HASH_KEY", with("UNDERWRITER_REQUEST_HASH_KEY", ""), []string{"api"},
			"UNDERWRITER_REQUEST_HASH_KEY: not set (a secret of 32 characters or more, e.g. from `openssl rand -hex 32`)"},
		tc{"api: UNDERWRITER_REQUEST_HASH_KEY too short", with("UNDERWRITER_REQUEST_HASH_KEY", "request-hash-key-of-the-configuration-test,short"), []string{"api"},
			"UNDERWRITER_REQUEST_HASH_KEY: key 2 of 2 is 5 characters; use 32 or more"},

		tc{"api: UNDERWRITER_TLS_CERT without its key", with("UNDERWRITER_TLS_CERT", missingCert), []string{"api"},
			"UNDERWRITER_TLS_KEY: not set, and UNDERWRITER_TLS_CERT is"},
		tc{"api: UNDERWRITER_TLS_CLIENT_CA without TLS", with("UNDERWRITER_TLS_CLIENT_CA", missingCert), []string{"api"},
			"UNDERWRITER_TLS_CLIENT_CA: set, but not UNDERWRITER_TLS_CERT and UNDERWRITER_TLS_KEY: mTLS needs the API to serve TLS itself"},
		tc{"api: UNDERWRITER_TLS_CERT missing", with("UNDERWRITER_TLS_CERT", missingCert, "UNDERWRITER_TLS_KEY", missingCert), []string{"api"},
			"UNDERWRITER_TLS_CERT / UNDERWRITER_TLS_KEY: open " + missingCert + ": no such file or directory"},
		tc{"keys create: no --lender", base, []string{"keys", "create"}, "--lender: not set"},
		tc{"keys create: --lender with a slash", base, []string{"keys", "create", "--lender", "acme/eu"},
			`--lender: lender "acme/eu": must be 1-32 lowercase letters, digits or '-', starting with a letter or digit`},
		tc{"keys create: no DATABASE_URL", with("DATABASE_URL", ""), []string{"keys", "create", "--lender", "acme"}, "DATABASE_URL: not set"},
		tc{"keys revoke: no --id", base, []string{"keys", "revoke"}, "--id: not set (a key id from `underwriter keys list`)"},

		tc{"worker: UNDERWRITER_ALERT_SIGNING_KEY not hex", with("UNDERWRITER_ALERT_SIGNING_KEY", "not-a-key"), []string{"worker"},
			"UNDERWRITER_ALERT_SIGNING_KEY: not hex (64 hex digits, 32 bytes; 9 characters given)"},
		tc{"worker: UNDERWRITER_ALERT_SIGNING_KEY short", with("UNDERWRITER_ALERT_SIGNING_KEY", strings.Repeat("ab", 16)), []string{"worker"},
			"UNDERWRITER_ALERT_SIGNING_KEY: 16 bytes, want 32 (64 hex digits)"},
		tc{"worker: UNDERWRITER_ALERT_WEBHOOK_URL plain http", with("UNDERWRITER_ALERT_WEBHOOK_URL", "http://lender.example/alerts"), []string{"worker"},
			"UNDERWRITER_ALERT_WEBHOOK_URL: alert webhook URL refused: http is allowed for a loopback host only (localhost, 127.0.0.1, ::1); use https for lender.example"},
		tc{"dev: UNDERWRITER_ALERT_WEBHOOK_URL not a URL", map[string]string{"UNDERWRITER_ALERT_WEBHOOK_URL": "lender.example/alerts"}, []string{"dev"},
			"UNDERWRITER_ALERT_WEBHOOK_URL: alert webhook URL refused: not an absolute http(s) URL such as https://lender.example/alerts"},
		tc{"alerts set-webhook: no --lender", base, []string{"alerts", "set-webhook"}, "--lender: not set"},
		tc{"alerts set-webhook: no --url", base, []string{"alerts", "set-webhook", "--lender", "acme"},
			"--url: not set (the lender's alert endpoint, e.g. https://lender.example/underwriter/alerts), or --remove"},
		tc{"alerts set-webhook: --url and --remove", base, []string{"alerts", "set-webhook", "--lender", "acme", "--remove", "--url", "https://a.example"},
			"--url: set together with --remove; give one"},
		tc{"alerts set-webhook: --url with credentials", base, []string{"alerts", "set-webhook", "--lender", "acme", "--url", "https://u:p@a.example"},
			"--url: alert webhook URL refused: it holds a user or password; put credentials nowhere in the URL"},
		tc{"alerts set-webhook: no UNDERWRITER_ALERT_SIGNING_KEY", base, []string{"alerts", "set-webhook", "--lender", "acme", "--url", "https://a.example"},
			"UNDERWRITER_ALERT_SIGNING_KEY: not set (64 hex digits; `underwriter alerts generate-key` makes one)"},

		tc{"migrate: no DATABASE_URL", nil, []string{"migrate"}, "DATABASE_URL: not set"},
		tc{"migrate: DATABASE_URL with a bad port", with("DATABASE_URL", "postgres://u:secret@127.0.0.1:99999/db"), []string{"migrate"},
			"DATABASE_URL: cannot parse `postgres://u:xxxxx@127.0.0.1:99999/db`: invalid port"},
		tc{"migrate: --database-url not a URL", nil, []string{"migrate", "--database-url", "mysql://root@db/underwriter"},
			"DATABASE_URL: cannot parse `mysql:xxxxxx@db/underwriter`: failed to parse as keyword/value (invalid keyword/value)"},

		tc{"sandbox: --addr without a port", nil, []string{"sandbox", "--addr", "127.0.0.1"},
			`addr: "127.0.0.1" is not host:port`},
		tc{"sandbox: --addr with a port out of range", nil, []string{"sandbox", "--addr", "127.0.0.1:70000"},
			`addr: "127.0.0.1:70000": port "70000" is not a number in 0…65535`},
		tc{"sandbox: FCSANDBOX_RATE_LIMIT not a number", map[string]string{"FCSANDBOX_RATE_LIMIT": "fast"}, []string{"sandbox"},
			`parse FCSANDBOX_RATE_LIMIT: strconv.Atoi: parsing "fast": invalid syntax`},
		tc{"sandbox: FCSANDBOX_RATE_LIMIT zero", map[string]string{"FCSANDBOX_RATE_LIMIT": "0"}, []string{"sandbox"},
			"parse FCSANDBOX_RATE_LIMIT: 0 is not a rate; use a positive number, or off"},
		tc{"sandbox: FCSANDBOX_RATE_LIMIT negative", map[string]string{"FCSANDBOX_RATE_LIMIT": "-5"}, []string{"sandbox"},
			"FCSANDBOX_RATE_LIMIT: -5 is negative; use a positive number of requests per second, or off"},
		tc{"sandbox: FCSANDBOX_REFRESH_DELAY not a duration", map[string]string{"FCSANDBOX_REFRESH_DELAY": "soon"}, []string{"sandbox"},
			`parse FCSANDBOX_REFRESH_DELAY: time: invalid duration "soon"`},
		tc{"sandbox: FCSANDBOX_REFRESH_COOLDOWN negative", map[string]string{"FCSANDBOX_REFRESH_COOLDOWN": "-1s"}, []string{"sandbox"},
			"parse FCSANDBOX_REFRESH_COOLDOWN: negative duration -1s"},
		tc{"sandbox: FCSANDBOX_POST_PENDING not a boolean", map[string]string{"FCSANDBOX_POST_PENDING": "sometimes"}, []string{"sandbox"},
			`parse FCSANDBOX_POST_PENDING: strconv.ParseBool: parsing "sometimes": invalid syntax`},
		tc{"sandbox: FCSANDBOX_WEBHOOK_URL without a scheme", map[string]string{"FCSANDBOX_WEBHOOK_URL": "127.0.0.1:8080/v1/webhooks/stripe", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, []string{"sandbox"},
			`FCSANDBOX_WEBHOOK_URL: "127.0.0.1:8080/v1/webhooks/stripe" is not an http(s) URL such as http://127.0.0.1:12110`},
		tc{"sandbox: FCSANDBOX_WEBHOOK_URL without STRIPE_WEBHOOK_SECRET", map[string]string{"FCSANDBOX_WEBHOOK_URL": "http://127.0.0.1:8080/v1/webhooks/stripe"}, []string{"sandbox"},
			"STRIPE_WEBHOOK_SECRET: not set; the receiver at http://127.0.0.1:8080/v1/webhooks/stripe needs the same signing secret (for example whsec_ followed by random hex)"},
		tc{"sandbox: UNDERWRITER_LOG_FORMAT", map[string]string{"UNDERWRITER_LOG_FORMAT": "yaml"}, []string{"sandbox"},
			`log-format (UNDERWRITER_LOG_FORMAT): "yaml" is not json or text`},

		tc{"dev: UNDERWRITER_LOG_LEVEL", map[string]string{"UNDERWRITER_LOG_LEVEL": "trace"}, []string{"dev"},
			`log-level (UNDERWRITER_LOG_LEVEL): "trace" is not debug, info, warn or error`},
		tc{"dev: --log-format", nil, []string{"dev", "--log-format", "pretty"},
			`log-format (UNDERWRITER_LOG_FORMAT): "pretty" is not json or text`},
		tc{"dev: --temporal-port not a number", nil, []string{"dev", "--temporal-port", "7233x"},
			`invalid value "7233x" for flag -temporal-port: parse error`},
		tc{"dev: --timeout without a unit", nil, []string{"dev", "--timeout", "120"},
			`invalid value "120" for flag -timeout: parse error`},
		tc{"dev: DATABASE_URL with a bad port", with("DATABASE_URL", "postgres://u:secret@127.0.0.1:99999/db"), []string{"dev"},
			"DATABASE_URL: cannot parse `postgres://u:xxxxx@127.0.0.1:99999/db`: invalid port"},
		tc{"dev: --api-addr without a port", nil, []string{"dev", "--api-addr", "localhost"},
			`api-addr: "localhost" is not host:port`},
		tc{"dev: --sandbox-addr with a named port", nil, []string{"dev", "--sandbox-addr", "127.0.0.1:http"},
			`sandbox-addr: "127.0.0.1:http": port "http" is not a number in 0…65535`},
		tc{"dev: --temporal-port out of range", nil, []string{"dev", "--temporal-port", "70000"},
			"temporal-port: 70000 is not a port in 0…65535 (0: a free one)"},
		tc{"dev: --ui-port below -1", nil, []string{"dev", "--ui-port", "-2"},
			"ui-port: -2 is not a port in 0…65535, or -1 for no UI"},
		tc{"dev: --card-addr without a port", nil, []string{"dev", "--card-addr", "localhost"},
			`card-addr: "localhost" is not host:port`},
		tc{"dev: --refresh-delay negative", nil, []string{"dev", "--refresh-delay", "-1s"},
			"refresh-delay: -1s is negative"},
		tc{"dev: --timeout zero", nil, []string{"dev", "--timeout", "0s"},
			"timeout: 0s is not a positive duration"},
		tc{"dev: --after-loan-days negative", nil, []string{"dev", "--after-loan-days", "-1"},
			"after-loan-days: -1 is not a number of days in 0…3650"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A command that got past its checks would connect, listen or serve; the
			// deadline only bounds how long a wrong implementation takes to fail here.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := run(ctx, append([]string{"underwriter"}, c.args...), env(c.env), &stdout, &stderr)
			require.EqualError(t, err, c.want)
			require.False(t, errors.Is(err, flag.ErrHelp))
			require.False(t, errors.Is(err, context.DeadlineExceeded), "stopped at start, not by the deadline")
		})
	}
	require.Zero(t, db.conns.Load(), "no command connected to Postgres")
	require.Zero(t, temporal.conns.Load(), "no command connected to Temporal")
	require.Zero(t, stripe.conns.Load(), "no command connected to Stripe")

	// The tripwires do notice a connection: the base settings are good, so the worker
	// gets as far as Postgres.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"underwriter", "worker"}, env(base), &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "connect to postgres (DATABASE_URL)")
	require.NotZero(t, db.conns.Load())
}

// TestListenAddressesTakePortZero: the commands that listen accept port 0 (a free
// port, as devstack and the tests use it), while an address the command dials does
// not.
func TestListenAddressesTakePortZero(t *testing.T) {
	require.NoError(t, checkDevSettings("", "127.0.0.1:0", "127.0.0.1:0", 0, 0, 0, time.Minute))
	require.NoError(t, checkListenAddr(":0"))
	require.EqualError(t, checkListenAddr("127.0.0.1:-1"), `"127.0.0.1:-1": port "-1" is not a number in 0…65535`)
	require.EqualError(t, checkHostPort("127.0.0.1:0"), `"127.0.0.1:0": port "0" is not a number in 1…65535`)
}
