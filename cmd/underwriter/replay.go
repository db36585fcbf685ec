package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/internal/replay"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

func replayCommand() command {
	return command{
		name: "replay",
		args: "[HISTORY.json …]",
		summary: "Replay Underwrite histories against this build's workflow code: from JSON files (the Web UI's Download, " +
			"`temporal workflow show --output json`), or from the server by --workflow-id or --query. Prints each run's " +
			"replayed result and, with a database, whether it equals the decision row; exits non-zero naming the first run " +
			"that no longer replays or whose result differs.",
		env: append([]envVar{envDatabaseURL, envLogFormat, envLogLevel}, temporalEnv...),
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			tc, tcErr := temporalSettings(fs, getenv)
			workflowID := fs.String("workflow-id", "", "replay this workflow's run from the server")
			runID := fs.String("run-id", "", "with --workflow-id: this run (default: the latest)")
			query := fs.String("query", "", "replay every Underwrite run this visibility query matches, e.g. 'CloseTime > \"2026-11-01T00:00:00Z\"'")
			lender := fs.String("lender", "", "with --query: only this lender's applications")
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL: compare each result with its decision row (empty: no comparison)")
			asJSON := fs.Bool("json", false, "print one JSON object per run")
			var logs logConfig
			logs.flags(fs, getenv, "text", "error")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				files := fs.Args()
				fromServer := *workflowID != "" || *query != ""
				switch {
				case *workflowID != "" && *query != "":
					return errors.New("--workflow-id and --query: give one")
				case *runID != "" && *workflowID == "":
					return errors.New("--run-id: needs --workflow-id")
				case *lender != "" && *query == "":
					return errors.New("--lender: needs --query")
				case len(files) == 0 && !fromServer:
					return errors.New("replay: name history files, or --workflow-id, or --query")
				}
				if err := checkLenderFlag(*lender, true); err != nil {
					return err
				}
				var st *store.Store
				if *dbURL != "" {
					if err := checkDatabaseURL(*dbURL); err != nil {
						return err
					}
				}
				if err := tcErr(); err != nil && len(files) > 0 { // files need UNDERWRITER_PAYLOAD_KEYS valid too
					return err
				}
				if fromServer {
					if err := errors.Join(tcErr(), checkTemporal(*tc)); err != nil {
						return err
					}
				}
				if *dbURL != "" {
					var closeDB func()
					if st, closeDB, err = openStore(ctx, *dbURL); err != nil {
						return err
					}
					defer closeDB()
				}
				out := newReplayPrinter(stdout, *asJSON)
				check := func(r replay.Run) error {
					if st != nil {
						if err := replay.CompareDecision(ctx, st, &r); err != nil {
							return err
						}
					}
					out.print(r)
					return nil
				}
				for _, f := range files {
					h, err := replay.ReadFile(f)
					if err != nil {
						return err
					}
					if err := check(replay.HistoryWithConverter(h, f, "", "", logger, tc.DataConverter)); err != nil {
						return err
					}
				}
				if fromServer {
					c, err := wiring.DialTemporal(ctx, *tc, logger)
					if err != nil {
						return err
					}
					defer c.Close()
					if err := replayFromServer(ctx, c, *workflowID, *runID, serverQuery(*query, *lender), logger, tc.DataConverter, check); err != nil {
						return err
					}
				}
				return out.finish()
			}
		},
	}
}

// serverQuery restricts query to the lender's applications.
func serverQuery(query, lender string) string {
	if lender == "" {
		return query
	}
	return fmt.Sprintf("(%s) AND UnderwritingLender = '%s'", query, lender)
}

// replayFromServer replays the one run, or every run the query matches.
func replayFromServer(ctx context.Context, c tclient.Client, workflowID, runID, query string, logger *slog.Logger, dc converter.DataConverter, check func(replay.Run) error) error {
	one := func(wid, rid string) error {
		h, err := replay.Fetch(ctx, c, wid, rid)
		if err != nil {
			return err
		}
		return check(replay.HistoryWithConverter(h, "server", wid, rid, logger, dc))
	}
	if workflowID != "" {
		return one(workflowID, runID)
	}
	return replay.Query(ctx, c, query, one)
}

// replayPrinter prints runs as a table or JSON lines and remembers the first failure.
type replayPrinter struct {
	w      io.Writer
	tw     *tabwriter.Writer
	json   bool
	n, bad int
	first  *replay.Run
}

func newReplayPrinter(w io.Writer, asJSON bool) *replayPrinter {
	p := &replayPrinter{w: w, json: asJSON}
	if !asJSON {
		p.tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(p.tw, "WORKFLOW\tRUN\tSTATUS\tREPLAY\tOUTCOME\tSCORE\tREASONS\tDECISION ROW")
	}
	return p
}

func (p *replayPrinter) print(r replay.Run) {
	p.n++
	if !r.OK() {
		p.bad++
		if p.first == nil {
			p.first = &r
		}
	}
	if p.json {
		b, _ := json.Marshal(r) // a struct of strings, numbers and slices always encodes
		fmt.Fprintln(p.w, string(b))
		return
	}
	verdict, outcome, score, reasons := "ok", "-", "-", "-"
	switch {
	case r.Err != "":
		verdict = "FAILS"
	case r.Mismatch != "":
		verdict = "DIFFERS"
	}
	if r.Result != nil {
		outcome, score = r.Result.Outcome, fmt.Sprint(r.Result.Score)
		if len(r.Result.Reasons) > 0 {
			reasons = ""
			for i, x := range r.Result.Reasons {
				if i > 0 {
					reasons += ","
				}
				reasons += x.Code
			}
		}
	}
	row := r.Decision
	if row == "" {
		row = "-"
	}
	fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.WorkflowID, orDash(r.RunID), r.Status, verdict, outcome, score, reasons, row)
}

// finish flushes the table and returns the first failure, naming its run.
func (p *replayPrinter) finish() error {
	if p.tw != nil {
		p.tw.Flush()
		fmt.Fprintf(p.w, "\n%d runs replayed, %d failed\n", p.n, p.bad)
	}
	if p.first == nil {
		return nil
	}
	r := p.first
	what := r.Err
	if what == "" {
		what = r.Mismatch
	}
	return fmt.Errorf("replay: %s (%s, run %s): %s", r.WorkflowID, r.Source, orDash(r.RunID), what)
}
