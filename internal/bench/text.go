package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints r as tables with their ratios, then the targets.
func (r Report) WriteText(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "%s %s/%s, %d CPUs, GOMAXPROCS %d\n", m.GoVersion, m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if s := r.Scoring; s != nil {
		fmt.Fprintln(w, "\nscoring (per ledger; median of rounds):")
		fmt.Fprintln(tw, "months\ttxns\tbytes\tencoding/json\tparse\tfeatures+score\tscoring_vs_decode\tparse_vs_decode\tparse allocs\tfeatures allocs\t")
		for _, l := range s.Ledgers {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%.3f\t%.3f\t%.0f\t%.0f\t\n", l.Months, l.Transactions, l.Bytes,
				ms(l.DecodeJSONNs), ms(l.ParseNs), ms(l.FeaturesScoreNs), l.ScoringVsDecode, l.ParseVsDecode,
				l.ParseAllocs, l.FeaturesScoreAllocs)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if b := r.Batch; b != nil {
		fmt.Fprintf(w, "\nbatch (%d ledgers of %d months, %d transactions each, bytes to decision, %d workers):\n",
			b.Ledgers, b.Months, b.Transactions, b.Workers)
		fmt.Fprintln(tw, "wall\tCPU\tledgers/s\tper core (GOMAXPROCS)\tper CPU-second\t")
		fmt.Fprintf(tw, "%.2f s\t%.2f s\t%.0f\t%.0f\t%.0f\t\n", b.WallSeconds, b.CPUSeconds, b.LedgersPerSecond,
			b.LedgersPerSecondPerCore, b.LedgersPerCPUSecond)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if in := r.Ingest; in != nil {
		fmt.Fprintf(w, "\ningest (%d accounts, %d transactions, %d pages of up to 100; sandbox rate limit off):\n",
			in.Accounts, in.Transactions, in.Pages)
		fmt.Fprintln(tw, "sync activity\tof which HTTP list alone\tCopyFrom\tsync txns/s\tcopy txns/s\tingest_vs_copy\t")
		fmt.Fprintf(tw, "%.2f s\t%.2f s\t%.3f s\t%.0f\t%.0f\t%.3f\t\n", in.SyncSeconds, in.ListSeconds, in.CopySeconds, in.SyncTxnsPerSecond,
			in.CopyTxnsPerSecond, in.IngestVsCopy)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if e := r.E2E; e != nil {
		fmt.Fprintf(w, "\ne2e (%d one-account applications at once, refresh delay %s, rate limit off; workflow shape: %d activities, %d signals, %d timers):\n",
			e.Applications, leastRefreshDelay, e.Shape.Activities, e.Shape.Signals, e.Shape.Timers)
		fmt.Fprintln(tw, "decided\twall\tapplications/s\tno-op wall\tno-op/s\te2e_vs_noop\tStripe requests/app\t")
		fmt.Fprintf(tw, "%d\t%.2f s\t%.2f\t%.2f s\t%.2f\t%.3f\t%.2f\t\n", e.Decided, e.WallSeconds, e.ApplicationsPerSecond,
			e.NoopWallSeconds, e.NoopPerSecond, e.E2EVsNoop, e.StripeRequestsPerApplication)
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "refresh webhook to decision, %d applications at %.2f/s: p50 %.3f s, p99 %.3f s\n",
			e.LatencyApplications, e.PacedPerSecond, e.RefreshToDecisionP50, e.RefreshToDecisionP99)
	}
	if l := r.Load; l != nil {
		fmt.Fprintf(w, "\nload (sandbox rate limit %d requests/s):\n", l.RateLimit)
		fmt.Fprintf(w, "at 80%% of the limit: %d applications at %.2f/s (%d Stripe requests each), %d answered 429\n",
			l.At80Applications, l.At80PerSecond, l.StripeRequestsPerApplication, l.At80RateLimited)
		fmt.Fprintln(tw, "in flight\tdecided\twall\tStripe requests\t429s\tpeak RSS\tGETs\tGET errors\tGET p50\tGET p99\t")
		fmt.Fprintf(tw, "%d\t%d\t%.1f s\t%d\t%d\t%.0f MB\t%d\t%d\t%.3f s\t%.3f s\t\n", l.Applications, l.Decided, l.WallSeconds,
			l.StripeRequests, l.RateLimited, l.PeakRSSMB, l.GETs, l.GETErrors, l.GETP50, l.GETP99)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\ntargets:")
		for _, t := range r.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "MISSED"
			}
			bound := fmt.Sprintf("≤ %g", t.Max)
			if t.Min != 0 {
				bound = fmt.Sprintf("≥ %g", t.Min)
			}
			fmt.Fprintf(tw, "%s\t%.3f\t%s\t%s\t\n", t.Figure, t.Value, bound, verdict)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func ms(ns float64) string { return fmt.Sprintf("%.3f ms", ns/1e6) }
