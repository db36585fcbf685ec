package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/store"
)

// exportColumns are the CSV columns of `decisions export`, and the keys of its JSONL
// objects.
var exportColumns = []string{"application_id", "lender", "decided_at", "outcome", "score", "pd",
	"model_version", "policy_version", "feature_set_version", "loan_outcome", "loan_observed_on", "reasons", "rules",
	"deployment_version"}

// exportBuffer is the size of the export's write buffer: rows reach the output in 64 KiB
// writes as they come from Postgres, and memory stays that of one buffer and one row.
const exportBuffer = 64 << 10

func decisionsExportCommand() command {
	return command{
		name: "decisions export",
		summary: "Write every decision of a period (--from, --to: UTC days, both included) as CSV or JSONL, one row per decision: " +
			"the lender's application id, lender, decided_at, outcome, score, PD, versions, the loan outcome if known, reasons, " +
			"policy rule results and the Worker Deployment Version that made it. Rows stream from Postgres: memory does not grow with their number.",
		env: []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			from := fs.String("from", "", "first day decided, YYYY-MM-DD (UTC; required)")
			to := fs.String("to", "", "last day decided, YYYY-MM-DD (UTC, included; required)")
			format := fs.String("format", "csv", "csv (reasons as codes joined by ';', rules as rule=passed joined by ';') or jsonl (reasons and rules as objects)")
			lender := fs.String("lender", "", "only this lender's decisions (default: every lender's)")
			out := fs.String("out", "", "file to write, replaced whole when the export succeeds (default: stdout)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				filter := store.DecisionFilter{Lender: *lender}
				var err error
				if filter.From, err = parseDay("--from", *from); err != nil {
					return err
				}
				last, err := parseDay("--to", *to)
				if err != nil {
					return err
				}
				if last.Before(filter.From) {
					return fmt.Errorf("--to: %s is before --from %s", *to, *from)
				}
				filter.To = last.AddDate(0, 0, 1)
				if *format != "csv" && *format != "jsonl" {
					return fmt.Errorf("--format: %q is not csv or jsonl", *format)
				}
				if err := checkLenderFlag(*lender, true); err != nil {
					return err
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				n, err := exportDecisionsTo(ctx, st, filter, *format, *out, stdout)
				if err != nil {
					return err
				}
				who := "every lender"
				if *lender != "" {
					who = "lender " + *lender
				}
				fmt.Fprintf(stderr, "decisions export: %d decisions of %s decided %s to %s\n", n, who, *from, *to)
				return nil
			}
		},
	}
}

// parseDay reads a flag's YYYY-MM-DD day as UTC midnight.
func parseDay(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s: not set (a day YYYY-MM-DD)", flagName)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not a day YYYY-MM-DD", flagName, s)
	}
	return t, nil
}

// exportDecisionsTo writes the export to path, or to stdout when path is "". A file is
// written beside path and renamed over it at the end, so a failed export leaves the
// earlier file (or none) rather than half of one.
func exportDecisionsTo(ctx context.Context, st *store.Store, f store.DecisionFilter, format, path string, stdout io.Writer) (int, error) {
	if path == "" {
		return exportDecisions(ctx, st, f, format, stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := exportDecisions(ctx, st, f, format, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", path, cerr)
	}
	if err != nil {
		return n, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}

// exportDecisions streams the decisions f selects to w in format, one row each as
// store.ExportedDecision hands them over, and returns how many it wrote. Rows go through
// one 64 KiB buffer, passed on to w whenever it is full: nothing accumulates.
func exportDecisions(ctx context.Context, st *store.Store, f store.DecisionFilter, format string, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, exportBuffer)
	var cw *csv.Writer
	var write func(*store.ExportedDecision) error
	switch format {
	case "csv":
		cw = csv.NewWriter(bw)
		if err := cw.Write(exportColumns); err != nil {
			return 0, fmt.Errorf("write export: %w", err)
		}
		rec := make([]string, len(exportColumns))
		write = func(d *store.ExportedDecision) error {
			if err := csvRecord(rec, d); err != nil {
				return err
			}
			return cw.Write(rec)
		}
	case "jsonl":
		enc := json.NewEncoder(bw)
		write = func(d *store.ExportedDecision) error { return enc.Encode(jsonlRecord(d)) }
	default:
		return 0, fmt.Errorf("--format: %q is not csv or jsonl", format)
	}
	n, err := st.ExportDecisions(ctx, f, write)
	if err != nil {
		return n, fmt.Errorf("export decisions: %w", err)
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("write export: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write export: %w", err)
	}
	return n, nil
}

// csvRecord fills rec (in exportColumns' order) with d: empty cells for what is unknown,
// reason codes joined by ';', and rule results as rule=passed joined by ';'.
func csvRecord(rec []string, d *store.ExportedDecision) error {
	var reasons []struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(d.Reasons, &reasons); err != nil {
		return fmt.Errorf("reasons of application %s of lender %s: %w", d.ExternalID, d.LenderID, err)
	}
	var rules []struct {
		Rule   string `json:"rule"`
		Passed bool   `json:"passed"`
	}
	if err := json.Unmarshal(d.Rules, &rules); err != nil {
		return fmt.Errorf("rules of application %s of lender %s: %w", d.ExternalID, d.LenderID, err)
	}
	var codes, results strings.Builder
	for i, r := range reasons {
		if i > 0 {
			codes.WriteByte(';')
		}
		codes.WriteString(r.Code)
	}
	for i, r := range rules {
		if i > 0 {
			results.WriteByte(';')
		}
		results.WriteString(r.Rule + "=" + strconv.FormatBool(r.Passed))
	}
	rec[0], rec[1], rec[2], rec[3] = d.ExternalID, d.LenderID, d.DecidedAt.UTC().Format(time.RFC3339Nano), d.Outcome
	rec[4], rec[5] = "", ""
	if d.Score != nil {
		rec[4] = strconv.Itoa(*d.Score)
	}
	if d.PD != nil {
		rec[5] = strconv.FormatFloat(*d.PD, 'f', -1, 64)
	}
	rec[6], rec[7], rec[8] = d.ModelVersion, d.PolicyVersion, d.FeatureSetVersion
	rec[9], rec[10] = "", ""
	if d.LoanOutcome != nil {
		rec[9] = *d.LoanOutcome
	}
	if d.LoanObservedOn != nil {
		rec[10] = d.LoanObservedOn.UTC().Format(time.DateOnly)
	}
	rec[11], rec[12] = codes.String(), results.String()
	rec[13] = ""
	if d.DeploymentVersion != nil {
		rec[13] = *d.DeploymentVersion
	}
	return nil
}

// exportedDecision is one JSONL line of `decisions export`: the CSV's columns, with the
// reasons and rule results as the decision stored them, and null for what is unknown.
type exportedDecision struct {
	ApplicationID     string          `json:"application_id"`
	Lender            string          `json:"lender"`
	DecidedAt         time.Time       `json:"decided_at"`
	Outcome           string          `json:"outcome"`
	Score             *int            `json:"score"`
	PD                *float64        `json:"pd"`
	ModelVersion      string          `json:"model_version"`
	PolicyVersion     string          `json:"policy_version"`
	FeatureSetVersion string          `json:"feature_set_version"`
	LoanOutcome       *string         `json:"loan_outcome"`
	LoanObservedOn    *string         `json:"loan_observed_on"`
	Reasons           json.RawMessage `json:"reasons"`
	Rules             json.RawMessage `json:"rules"`
	DeploymentVersion *string         `json:"deployment_version"`
}

func jsonlRecord(d *store.ExportedDecision) exportedDecision {
	e := exportedDecision{ApplicationID: d.ExternalID, Lender: d.LenderID, DecidedAt: d.DecidedAt.UTC(), Outcome: d.Outcome,
		Score: d.Score, PD: d.PD, ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion,
		FeatureSetVersion: d.FeatureSetVersion, LoanOutcome: d.LoanOutcome, Reasons: d.Reasons, Rules: d.Rules,
		DeploymentVersion: d.DeploymentVersion}
	if d.LoanObservedOn != nil {
		day := d.LoanObservedOn.UTC().Format(time.DateOnly)
		e.LoanObservedOn = &day
	}
	return e
}
