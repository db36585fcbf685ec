package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/bench"
)

func benchCommand() command {
	return command{
		name: "bench",
		summary: "Measure underwriter's stages next to the cheapest thing that does the same job, in one run, and print the ratios " +
			"(scoring: features+score vs an encoding/json decode per ledger length; batch: ledgers from bytes to decision per second per core); " +
			"--json prints one JSON object.",
		flags: func(fs *flag.FlagSet, _ func(string) string) func(context.Context, io.Writer, io.Writer) error {
			asJSON := fs.Bool("json", false, "print one JSON object: a key per section and figures, the flat map of named figures")
			lengths := fs.String("lengths", "3,12,24", "ledger lengths in months of the scoring section, comma-separated")
			batch := fs.Int("batch", 10000, "ledgers in the batch section")
			batchMonths := fs.Int("batch-months", 12, "length in months of the batch's ledgers")
			minTime := fs.Duration("min-time", time.Second, "time each side of a scoring comparison runs, at least")
			workers := fs.Int("workers", 0, "batch parallelism (default GOMAXPROCS)")
			sections := fs.String("sections", strings.Join(bench.Sections, ","), "sections to run, comma-separated: "+strings.Join(bench.Sections, ", "))
			cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
			e2eApps := fs.Int("e2e-applications", 200, "applications of the e2e section's throughput run")
			loadApps := fs.Int("load-applications", 1000, "applications in flight at once in the load section")
			loadRate := fs.Int("load-rate-limit", 100, "the sandbox's requests per second in the load section "+
				"(Stripe's live mode: 100; test mode's 25 makes the load of 1,000 take 7 minutes or more)")
			ingestAccounts := fs.Int("ingest-accounts", 40, "sandbox accounts the ingest section syncs (about 490 transactions each)")
			return func(ctx context.Context, stdout, _ io.Writer) error {
				ls, err := parseLengths(*lengths)
				if err != nil {
					return err
				}
				switch {
				case *batch < 1:
					return fmt.Errorf("bench: --batch: %d is below 1", *batch)
				case *batchMonths < 1:
					return fmt.Errorf("bench: --batch-months: %d is below 1", *batchMonths)
				case *minTime <= 0:
					return fmt.Errorf("bench: --min-time: %s is not positive", *minTime)
				case *workers < 0:
					return fmt.Errorf("bench: --workers: %d is below 0", *workers)
				case *e2eApps < 1:
					return fmt.Errorf("bench: --e2e-applications: %d is below 1", *e2eApps)
				case *loadApps < 1:
					return fmt.Errorf("bench: --load-applications: %d is below 1", *loadApps)
				case *loadRate < 1:
					return fmt.Errorf("bench: --load-rate-limit: %d is below 1", *loadRate)
				case *ingestAccounts < 1:
					return fmt.Errorf("bench: --ingest-accounts: %d is below 1", *ingestAccounts)
				}
				secs, err := parseSections(*sections)
				if err != nil {
					return err
				}
				if *cpuProfile != "" {
					f, err := os.Create(*cpuProfile)
					if err != nil {
						return fmt.Errorf("bench: --cpuprofile: %w", err)
					}
					defer f.Close()
					if err := pprof.StartCPUProfile(f); err != nil {
						return fmt.Errorf("bench: --cpuprofile: %w", err)
					}
					defer pprof.StopCPUProfile()
				}
				r, err := bench.Run(ctx, bench.Options{Lengths: ls, Batch: *batch, BatchMonths: *batchMonths,
					MinTime: *minTime, Workers: *workers, Sections: secs, IngestAccounts: *ingestAccounts, E2EApplications: *e2eApps,
					LoadApplications: *loadApps, LoadRateLimit: *loadRate})
				if err != nil {
					return fmt.Errorf("bench: %w", err)
				}
				if *asJSON {
					enc := json.NewEncoder(stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(r)
				}
				return r.WriteText(stdout)
			}
		},
	}
}

// parseLengths parses --lengths: positive month counts, comma-separated.
func parseLengths(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 120 {
			return nil, fmt.Errorf("bench: --lengths: %q is not a number of months from 1 to 120", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSections parses --sections: names of bench.Sections, comma-separated.
func parseSections(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(bench.Sections, p) {
			return nil, fmt.Errorf("bench: --sections: %q is not one of %s", p, strings.Join(bench.Sections, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}
