package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/store"
)

// outcomeColumns is the header an outcome file must have, exactly and in this order.
var outcomeColumns = []string{"application_id", "outcome", "observed_on"}

// maxReportedProblems is how many problems of a refused outcome file the error lists: the
// first ten by line are enough to see what is wrong with a file, and a file that is wrong
// throughout (another lender's ids, say) would otherwise print every line.
const maxReportedProblems = 10

func outcomesImportCommand() command {
	return command{
		name: "outcomes import",
		args: "FILE",
		summary: "Store loan outcomes (CSV application_id,outcome,observed_on; outcome repaid, defaulted or charged_off; " +
			"observed_on YYYY-MM-DD) of a lender's applications: the whole file in one transaction, or nothing with its problems by line.",
		env: []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			lender := fs.String("lender", loan.DevLender, "the lender whose application ids the file holds")
			return func(ctx context.Context, stdout, _ io.Writer) error {
				path, err := fileArg(fs)
				if err != nil {
					return fmt.Errorf("outcomes import: %w", err)
				}
				if err := checkLenderFlag(*lender, false); err != nil {
					return err
				}
				recs, problems, err := readOutcomeFile(path, time.Now())
				if err != nil {
					return err
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				var res store.OutcomeImport
				if len(problems) > 0 {
					// The file is refused already; the database adds its own problems
					// (unknown ids, stored outcomes) so that one run reports them all.
					dbProblems, err := st.CheckOutcomes(ctx, *lender, recs)
					if err != nil {
						return outcomesStoreError(*lender, err)
					}
					return refusedOutcomes(path, append(problems, dbProblems...))
				}
				res, err = st.ImportOutcomes(ctx, *lender, recs)
				var ie *store.OutcomeImportError
				if errors.As(err, &ie) {
					return refusedOutcomes(path, ie.Problems)
				}
				if err != nil {
					return outcomesStoreError(*lender, err)
				}
				counts := map[string]int{}
				for _, r := range recs {
					counts[r.Outcome]++
				}
				fmt.Fprintf(stdout, "%s: %d outcomes of lender %s: %d stored, %d already stored (repaid %d, defaulted %d, charged_off %d)\n",
					path, len(recs), *lender, res.Stored, res.Unchanged,
					counts[store.LoanRepaid], counts[store.LoanDefaulted], counts[store.LoanChargedOff])
				return nil
			}
		},
	}
}

// fileArg returns the one positional argument of a command that takes a FILE, parsing
// any flags given after it (`outcomes import FILE --lender acme`): the flag package stops
// at the first argument that is not a flag.
func fileArg(fs *flag.FlagSet) (string, error) {
	if fs.NArg() == 0 {
		return "", errors.New("FILE: not given")
	}
	path := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected argument %q after FILE", fs.Arg(0))
	}
	return path, nil
}

func outcomesStoreError(lender string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--lender: no lender %s", lender)
	}
	return err
}

// refusedOutcomes is the error of a refused outcome file: how many problems, and the
// first maxReportedProblems of them by line, one a line.
func refusedOutcomes(path string, problems []store.OutcomeProblem) error {
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	var b strings.Builder
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "%s: refused, nothing stored: %d %s", path, len(problems), noun)
	for i, p := range problems {
		if i == maxReportedProblems {
			fmt.Fprintf(&b, "\n  and %d more", len(problems)-maxReportedProblems)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return errors.New(b.String())
}

// readOutcomeFile reads an outcome file. It returns the records of the good lines and a
// problem for each bad one (an empty id, an unknown outcome, a bad or future date, the
// wrong number of fields, an application repeated), so that one run reports them all; the
// error is for a file it cannot read at all (missing, a wrong header, broken quoting).
// Dates after now's UTC day are refused: an outcome cannot be observed in the future.
func readOutcomeFile(path string, now time.Time) ([]store.OutcomeRecord, []store.OutcomeProblem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open outcome file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%s line 1: empty file; want the header %s", path, strings.Join(outcomeColumns, ","))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	got := make([]string, len(header))
	for i, h := range header {
		got[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	if strings.Join(got, ",") != strings.Join(outcomeColumns, ",") {
		return nil, nil, fmt.Errorf("%s line 1: header is %q; want exactly %s", path, strings.Join(got, ","), strings.Join(outcomeColumns, ","))
	}
	r.FieldsPerRecord = len(outcomeColumns)
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	var recs []store.OutcomeRecord
	var problems []store.OutcomeProblem
	firstLine := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return recs, problems, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			problems = append(problems, store.OutcomeProblem{Line: pe.StartLine,
				Message: fmt.Sprintf("%d fields; want %d (%s)", len(rec), len(outcomeColumns), strings.Join(outcomeColumns, ","))})
			continue
		}
		if errors.As(err, &pe) {
			// Broken quoting leaves the rest of the file unreadable: report it and stop.
			problems = append(problems, store.OutcomeProblem{Line: pe.Line, Message: pe.Err.Error()})
			return recs, problems, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		o := store.OutcomeRecord{Line: line, ExternalID: strings.TrimSpace(rec[0]), Outcome: strings.TrimSpace(rec[1])}
		bad := false
		problem := func(field, format string, args ...any) {
			problems = append(problems, store.OutcomeProblem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
			bad = true
		}
		switch first, seen := firstLine[o.ExternalID]; {
		case o.ExternalID == "":
			problem("application_id", "empty")
		case seen:
			problem("application_id", "%q repeats line %d", o.ExternalID, first)
		default:
			firstLine[o.ExternalID] = line
		}
		if !slices.Contains(store.LoanOutcomes, o.Outcome) {
			problem("outcome", "%q is not repaid, defaulted or charged_off", o.Outcome)
		}
		day := strings.TrimSpace(rec[2])
		if o.ObservedOn, err = time.Parse(time.DateOnly, day); err != nil {
			problem("observed_on", "%q is not a date YYYY-MM-DD", day)
		} else if o.ObservedOn.After(today) {
			problem("observed_on", "%s is in the future", day)
		}
		if !bad {
			recs = append(recs, o)
		}
	}
}
