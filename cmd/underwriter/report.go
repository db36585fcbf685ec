package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/cashflow-underwriting/underwriter/report"
	"github.com/cashflow-underwriting/underwriter/store"
)

func reportCommand() command {
	return command{
		name: "report",
		summary: "Write the decision report of one application: a self-contained HTML page (or, with --format png, a one-page image) " +
			"with the outcome, score, PD, amount, term, versions and snapshot hash, the adverse-action reasons, every policy rule and " +
			"charts of the daily balances, monthly flows, detected streams and scorecard points, made from the stored decision and its frozen snapshot.",
		env:  []envVar{envDatabaseURL},
		args: "APPLICATION_ID",
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			lender := fs.String("lender", store.DevLender, "the lender whose application id APPLICATION_ID is")
			out := fs.String("out", "", "file to write (required), replaced whole when the report succeeds")
			format := fs.String("format", "html", "html (the full report) or png (a one-page summary image)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				// The id may come before the flags (report APP --out f.html): parse what follows it.
				args := fs.Args()
				if len(args) == 0 {
					return errors.New("report: APPLICATION_ID: not given")
				}
				id := args[0]
				if err := fs.Parse(args[1:]); err != nil {
					return err
				}
				if fs.NArg() > 0 {
					return fmt.Errorf("report: unexpected argument %q", fs.Arg(0))
				}
				if *out == "" {
					return errors.New("--out: not set (the file to write)")
				}
				if *format != "html" && *format != "png" {
					return fmt.Errorf("--format: %q is not html or png", *format)
				}
				if err := checkLenderFlag(*lender, false); err != nil {
					return err
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				in, err := loadDecisionReport(ctx, st, *lender, id)
				if err != nil {
					return err
				}
				var b []byte
				if *format == "png" {
					b, err = report.DecisionPNG(in)
				} else {
					b, err = report.DecisionHTML(in)
				}
				if err != nil {
					return err
				}
				if err := writeFileAtomic(*out, b); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "report: %s of application %s (%s) written to %s\n", *format, id, in.Decision.Outcome, *out)
				return nil
			}
		},
	}
}

// loadDecisionReport reads what the decision report of the lender's application is made
// of: the application, its stored decision and the snapshot the decision scored.
func loadDecisionReport(ctx context.Context, st *store.Store, lender, id string) (report.DecisionInput, error) {
	app, err := st.GetLenderApplication(ctx, lender, id)
	if errors.Is(err, store.ErrNotFound) {
		return report.DecisionInput{}, fmt.Errorf("APPLICATION_ID: lender %s has no application %q", lender, id)
	}
	if err != nil {
		return report.DecisionInput{}, err
	}
	d, err := st.GetDecision(ctx, app.ID)
	if errors.Is(err, store.ErrNotFound) {
		return report.DecisionInput{}, fmt.Errorf("APPLICATION_ID: application %q has no decision yet (stage %s)", id, app.Stage)
	}
	if err != nil {
		return report.DecisionInput{}, err
	}
	in := report.DecisionInput{ApplicationID: app.ExternalID, Lender: app.LenderID, LoanAmountMinor: app.LoanAmountMinor,
		TermMonths: app.TermMonths, Currency: app.Currency, Decision: d}
	if d.SnapshotID != nil {
		snap, err := st.GetSnapshot(ctx, *d.SnapshotID)
		if err != nil {
			return report.DecisionInput{}, fmt.Errorf("read snapshot %d of application %q: %w", *d.SnapshotID, id, err)
		}
		in.Ledger = snap.Ledger
	}
	return in, nil
}
