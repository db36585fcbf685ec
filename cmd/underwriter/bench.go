package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
				}
				r, err := bench.Run(ctx, bench.Options{Lengths: ls, Batch: *batch, BatchMonths: *batchMonths,
					MinTime: *minTime, Workers: *workers})
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
