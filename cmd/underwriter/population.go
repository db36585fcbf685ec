package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/cashflow-underwriting/underwriter/internal/population"
)

// The default seeds keep the population a model is trained on apart from the one it is
// measured on: applicants of different seeds share nothing.
const (
	trainingSeed   = 1
	evaluationSeed = 2
)

// populationFlags are the flags both population commands share: which applicants.
type populationFlags struct {
	n       int
	seed    uint64
	workers int
}

func (p *populationFlags) define(fs *flag.FlagSet, defaultN int, defaultSeed uint64) {
	fs.IntVar(&p.n, "n", defaultN, "number of applicants")
	fs.Uint64Var(&p.seed, "seed", defaultSeed, "population seed: applicant i of a seed is the same in every population size")
	fs.IntVar(&p.workers, "workers", runtime.GOMAXPROCS(0), "parallel workers")
}

func (p *populationFlags) check(cmd string) error {
	switch {
	case p.n < 1:
		return fmt.Errorf("%s: --n: %d is below 1", cmd, p.n)
	case p.workers < 1:
		return fmt.Errorf("%s: --workers: %d is below 1", cmd, p.workers)
	}
	return nil
}

// populationGenerateCommand is `underwriter population generate`: the synthetic
// population (internal/population) written as the files `underwriter train` and
// `underwriter score --ledgers` read, with the known answers beside them.
func populationGenerateCommand() command {
	return command{
		name: "population generate",
		summary: "Write a synthetic population of applicants with known income and probability of default: one ledger file " +
			"per applicant, applications.csv and labels.csv (the inputs of train and score --ledgers) and truth.csv.",
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var p populationFlags
			p.define(fs, 4000, trainingSeed)
			out := fs.String("out", "", "directory to write to (created if missing)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				if err := p.check("population generate"); err != nil {
					return err
				}
				if *out == "" {
					return errors.New("population generate: --out: not set")
				}
				return writePopulation(ctx, *out, p)
			}
		},
	}
}

// populationEvaluateCommand is `underwriter population evaluate`: issue 8's table for a
// model and policy on a synthetic population.
func populationEvaluateCommand() command {
	return command{
		name: "population evaluate",
		summary: "Score a synthetic population with a model and policy (default: the embedded ones) and print income accuracy " +
			"per income type, AUC against the true probability's AUC, calibration by score decile and the approval rates " +
			"of low-risk applicants per income type.",
		env: []envVar{envModelFile, envPolicyFile},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var p populationFlags
			p.define(fs, 2000, evaluationSeed)
			model := fs.String("model", getenv(envModelFile.name), "scorecard model file (default: the embedded model)")
			policy := fs.String("policy", getenv(envPolicyFile.name), "policy file (default: the embedded policy)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				if err := p.check("population evaluate"); err != nil {
					return err
				}
				eng, err := loadEngine(*model, *policy)
				if err != nil {
					return fmt.Errorf("population evaluate: %w", err)
				}
				results, err := population.Run(p.seed, p.n, eng, p.workers)
				if err != nil {
					return fmt.Errorf("population evaluate: %w", err)
				}
				rep, err := population.Summarise(results)
				if err != nil {
					return fmt.Errorf("population evaluate: %w", err)
				}
				_, err = io.WriteString(stdout, rep.Markdown())
				return err
			}
		},
	}
}

// writePopulation writes applicants 0 … n−1 of the seed: <id>.json ledgers, and the
// three CSV files, each with one row per applicant in index order.
func writePopulation(ctx context.Context, dir string, p populationFlags) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("population generate: create %s: %w", dir, err)
	}
	apps := [][]string{{"applicant_id", "loan_amount_minor", "term_months"}}
	labels := [][]string{{"applicant_id", "defaulted"}}
	truth := [][]string{{"applicant_id", "income_type", "true_monthly_income", "true_pd"}}
	for i := range p.n {
		if err := ctx.Err(); err != nil {
			return err
		}
		a := population.NewApplicant(p.seed, i)
		data, err := a.Ledger.Marshal()
		if err != nil {
			return fmt.Errorf("population generate: applicant %s: %w", a.ID, err)
		}
		if err := os.WriteFile(filepath.Join(dir, a.ID+".json"), data, 0o644); err != nil {
			return fmt.Errorf("population generate: %w", err)
		}
		def := "0"
		if a.Defaulted {
			def = "1"
		}
		apps = append(apps, []string{a.ID, strconv.FormatInt(a.Loan.AmountMinor, 10), strconv.Itoa(a.Loan.TermMonths)})
		labels = append(labels, []string{a.ID, def})
		truth = append(truth, []string{a.ID, string(a.Traits.IncomeType), strconv.FormatInt(a.TrueMonthlyIncome, 10),
			strconv.FormatFloat(a.TruePD, 'f', 6, 64)})
	}
	for name, rows := range map[string][][]string{"applications.csv": apps, "labels.csv": labels, "truth.csv": truth} {
		if err := writeCSV(filepath.Join(dir, name), rows); err != nil {
			return fmt.Errorf("population generate: %w", err)
		}
	}
	return nil
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
