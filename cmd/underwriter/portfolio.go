package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/cashflow-underwriting/underwriter/report"
	"github.com/cashflow-underwriting/underwriter/store"
)

func portfolioCommand() command {
	return command{
		name: "portfolio",
		summary: "Write the portfolio and governance report of the decisions of a period into a directory: index.html and a PNG per chart. " +
			"Volumes and approval, decline and refer rates by week, loan-amount band and term; the score distribution and the reason codes among declines; " +
			"drift (PSI of the score and of each scorecard characteristic against --baseline-from/--baseline-to, flagged above 0.10 and 0.25); " +
			"AUC, KS, default rate by score band and calibration where loan outcomes are known; and, with --segments, approval rates, reason mix " +
			"and the adverse-impact ratio per segment of the lender's file (flagged below 0.80). Decisions stream from Postgres.",
		env: []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			from := fs.String("from", "", "first day decided, YYYY-MM-DD (UTC; required)")
			to := fs.String("to", "", "last day decided, YYYY-MM-DD (UTC, included; required)")
			baseFrom := fs.String("baseline-from", "", "first day of the reference period for drift, YYYY-MM-DD (UTC; with --baseline-to)")
			baseTo := fs.String("baseline-to", "", "last day of the reference period for drift, YYYY-MM-DD (UTC, included; with --baseline-from)")
			lender := fs.String("lender", "", "only this lender's decisions (default: every lender's)")
			segments := fs.String("segments", "", "CSV file application_id,segment of the lender's own segments for the fair-lending view (read, never stored)")
			out := fs.String("out", "", "directory to write index.html and the charts into (required; created if missing)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				opt, err := portfolioOptions(*from, *to, *baseFrom, *baseTo, *lender, *out)
				if err != nil {
					return err
				}
				if *segments != "" {
					if *lender == "" {
						// Application ids are the lenders' own, unique per lender only.
						return errors.New("--segments: needs --lender (the file's application ids are that lender's)")
					}
					f, err := os.Open(*segments)
					if err != nil {
						return fmt.Errorf("--segments: %w", err)
					}
					opt.Segments, err = report.ReadSegments(f)
					f.Close()
					if err != nil {
						return fmt.Errorf("--segments %s: %w", *segments, err)
					}
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				files, sum, err := buildPortfolio(ctx, st, opt)
				if err != nil {
					return err
				}
				if err := writePortfolio(*out, files); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "portfolio: %d decisions %s to %s (%d approved, %d declined, %d referred), %d files written to %s\n",
					sum.Total.N, *from, *to, sum.Total.Approve, sum.Total.Decline, sum.Total.Refer, len(files), filepath.Join(*out, "index.html"))
				return nil
			}
		},
	}
}

// portfolioOptions checks the flags and returns the report's options.
func portfolioOptions(from, to, baseFrom, baseTo, lender, out string) (report.PortfolioOptions, error) {
	var opt report.PortfolioOptions
	var err error
	if opt.From, err = parseDay("--from", from); err != nil {
		return opt, err
	}
	if opt.To, err = parseDay("--to", to); err != nil {
		return opt, err
	}
	if opt.To.Before(opt.From) {
		return opt, fmt.Errorf("--to: %s is before --from %s", to, from)
	}
	switch {
	case baseFrom == "" && baseTo == "":
	case baseFrom == "":
		return opt, errors.New("--baseline-from: not set (--baseline-to is)")
	case baseTo == "":
		return opt, errors.New("--baseline-to: not set (--baseline-from is)")
	default:
		if opt.BaselineFrom, err = parseDay("--baseline-from", baseFrom); err != nil {
			return opt, err
		}
		if opt.BaselineTo, err = parseDay("--baseline-to", baseTo); err != nil {
			return opt, err
		}
		if opt.BaselineTo.Before(opt.BaselineFrom) {
			return opt, fmt.Errorf("--baseline-to: %s is before --baseline-from %s", baseTo, baseFrom)
		}
	}
	if err := checkLenderFlag(lender, true); err != nil {
		return opt, err
	}
	opt.Lender = lender
	if out == "" {
		return opt, errors.New("--out: not set (the directory to write the report into)")
	}
	return opt, nil
}

// buildPortfolio streams the period's and the baseline's decisions into the report.
func buildPortfolio(ctx context.Context, st *store.Store, opt report.PortfolioOptions) (map[string][]byte, report.PortfolioSummary, error) {
	p := report.NewPortfolio(opt)
	f := store.DecisionFilter{Lender: opt.Lender, From: opt.From, To: opt.To.AddDate(0, 0, 1)}
	if _, err := st.PortfolioDecisions(ctx, f, p.Add); err != nil {
		return nil, report.PortfolioSummary{}, err
	}
	if !opt.BaselineFrom.IsZero() {
		f := store.DecisionFilter{Lender: opt.Lender, From: opt.BaselineFrom, To: opt.BaselineTo.AddDate(0, 0, 1)}
		if _, err := st.PortfolioDecisions(ctx, f, p.AddBaseline); err != nil {
			return nil, report.PortfolioSummary{}, err
		}
	}
	return p.Render()
}

// writePortfolio writes the files into dir, each replaced whole; index.html last, so that
// it never links a chart not yet written.
func writePortfolio(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if n != "index.html" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range append(names, "index.html") {
		if err := writeFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
	}
	return nil
}
