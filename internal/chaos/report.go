package chaos

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report for a reader: the figures, then every mismatch and every
// undecided application, then the verdict.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := []struct {
		name  string
		value any
	}{
		{"applications", r.Applications},
		{"decided", r.Decided},
		{"duplicate_decisions", r.DuplicateDecisions},
		{"duplicate_transactions", r.DuplicateTransactions},
		{"mismatched_decisions", r.MismatchedDecisions},
		{"worker_kills", r.WorkerKills},
		{"api_kills", r.APIKills},
		{"postgres_restarts", r.PostgresRestarts},
		{"sandbox_restarts", r.SandboxRestarts},
		{"webhooks_dropped", r.WebhooksDropped},
		{"webhooks_duplicated", r.WebhooksDuplicated},
		{"stripe_5xx", r.Stripe5xx},
		{"stripe_429", r.Stripe429},
		{"wall_seconds", fmt.Sprintf("%.1f (fault-free run %.1f, chaos run %.1f; slowest decision %.1f)",
			r.WallSeconds, r.ReferenceSeconds, r.ChaosSeconds, r.SlowestDecisionSecond)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%v\n", row.name, row.value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range r.Mismatches {
		fmt.Fprintf(w, "MISMATCH %s: fault-free %s, chaos %s\n", m.ApplicationID, decisionText(m.Reference), decisionText(m.Chaos))
	}
	for _, u := range r.Undecided {
		fmt.Fprintf(w, "UNDECIDED %s (%s): %s\n", u.ApplicationID, u.Persona, u.Error)
	}
	if p := r.Problems(); len(p) > 0 {
		_, err := fmt.Fprintf(w, "target missed: %s\n", strings.Join(p, "; "))
		return err
	}
	_, err := fmt.Fprintln(w, "target met: every application decided once, as the fault-free run decided it")
	return err
}

// decisionText is a decision in one line: outcome, score and reason codes.
func decisionText(r Result) string {
	score := "-"
	if r.Score != nil {
		score = fmt.Sprint(*r.Score)
	}
	return fmt.Sprintf("%s %s [%s]", r.Outcome, score, strings.Join(r.ReasonCodes, ", "))
}
