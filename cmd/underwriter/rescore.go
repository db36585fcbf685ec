package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"gonum.org/v1/gonum/stat"

	"github.com/cashflow-underwriting/underwriter/activities"
	"github.com/cashflow-underwriting/underwriter/internal/replay"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/loan"
	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// scoreBins is how many bins the score PSI uses: the original scores' deciles.
const scoreBins = 10

func rescoreCommand() command {
	return command{
		name: "rescore",
		summary: "Score the stored snapshots of a lender's past applications (decided --from to --to, UTC days, both included, or matched by --query) " +
			"under another model (--model) or policy (--policy), as a Rescore workflow on the worker (never Stripe), store the " +
			"results beside the decisions, and print the swap set, the score shift, the PSI of the score and of each " +
			"characteristic, and AUC and KS of both versions where loan outcomes are known.",
		env: append([]envVar{envDatabaseURL, envLogFormat, envLogLevel}, temporalEnv...),
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			tc, tcErr := temporalSettings(fs, getenv)
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			model := fs.String("model", "", "scorecard model file to score under (required; scoring/models/scorecard-v2.json is the shipped default)")
			policy := fs.String("policy", "", "policy file (default: the embedded policy v2)")
			from := fs.String("from", "", "first day decided, YYYY-MM-DD (UTC; required)")
			to := fs.String("to", "", "last day decided, YYYY-MM-DD (UTC, included; required)")
			lender := fs.String("lender", loan.DevLender, "the lender whose applications to re-score")
			query := fs.String("query", "", "instead of --from/--to: the applications whose Underwrite workflows this Temporal visibility query matches, e.g. 'UnderwritingOutcome = \"refer\"'")
			batch := fs.Int("batch", workflows.DefaultRescoreBatch, "applications per activity (one batch is what a worker restart repeats)")
			var logs logConfig
			logs.flags(fs, getenv, "text", "error")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				if *model == "" {
					return errors.New("--model: not set (a scorecard model file)")
				}
				first, last, err := rescorePeriod(*from, *to, *query)
				if err != nil {
					return err
				}
				if err := checkLenderFlag(*lender, false); err != nil {
					return err
				}
				if *batch < 1 {
					return fmt.Errorf("--batch: %d is below 1", *batch)
				}
				modelJSON, policyJSON, eng, err := rescoreFiles(*model, *policy)
				if err != nil {
					return err
				}
				if err := checkDatabaseURL(*dbURL); err != nil {
					return err
				}
				if err := errors.Join(tcErr(), checkTemporal(*tc)); err != nil {
					return err
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				c, err := wiring.DialTemporal(ctx, *tc, logger)
				if err != nil {
					return err
				}
				defer c.Close()
				selection := activities.RescoreSelection{Lender: *lender, From: first, To: last.AddDate(0, 0, 1)}
				what := fmt.Sprintf("decided %s to %s", *from, *to)
				if *query != "" {
					if selection.SelectionID, err = rescoreSelection(ctx, c, st, *lender, *query); err != nil {
						return err
					}
					what = fmt.Sprintf("selected by query %q", *query)
				}
				in := workflows.RescoreInput{
					Selection: selection,
					Model:     modelJSON, Policy: policyJSON, BatchSize: *batch,
					ModelVersion: eng.Model.ModelVersion, PolicyVersion: eng.Policy.PolicyVersion,
					FeatureSetVersion: eng.Model.FeatureSetVersion,
				}
				progress, wid, err := runRescore(ctx, c, in, stderr)
				if err != nil {
					return err
				}
				sel := store.RescoreSelection{Lender: in.Selection.Lender, From: in.Selection.From, To: in.Selection.To,
					SelectionID: in.Selection.SelectionID}
				pairs, err := st.RescorePairs(ctx, sel, in.FeatureSetVersion, in.ModelVersion, in.PolicyVersion)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "rescore of lender %s, %s: %d applications under model %s, policy %s (%s)\n",
					*lender, what, len(pairs), in.ModelVersion, in.PolicyVersion, in.FeatureSetVersion)
				fmt.Fprintf(stdout, "workflow %s: %d scored, %d stored, %d already stored\n",
					wid, progress.Done, progress.Stored, progress.Done-progress.Stored)
				return rescoreReport(stdout, eng, pairs)
			}
		},
	}
}

// queryPeriod is the period a --query selection lies in: all of time the table holds.
var queryPeriod = [2]time.Time{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)}

// rescorePeriod checks the selection flags: --from and --to (both UTC days, --to not
// before --from), or --query alone. It returns the first and last day selected.
func rescorePeriod(from, to, query string) (time.Time, time.Time, error) {
	if query != "" {
		if from != "" || to != "" {
			return time.Time{}, time.Time{}, errors.New("--query: give it instead of --from and --to, not with them")
		}
		return queryPeriod[0], queryPeriod[1], nil
	}
	first, err := parseDay("--from", from)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	last, err := parseDay("--to", to)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if last.Before(first) {
		return time.Time{}, time.Time{}, fmt.Errorf("--to: %s is before --from %s", to, from)
	}
	return first, last, nil
}

// rescoreSelection resolves a visibility query to the lender's applications (their
// Underwrite workflows' ids are underwrite/<application key>) and stores them as a
// selection whose id is a hash of the keys, so that the same matches resume the same
// re-score. It refuses a query that matches none of the lender's applications.
func rescoreSelection(ctx context.Context, c tclient.Client, st *store.Store, lender, query string) (string, error) {
	seen := map[string]bool{}
	err := replay.Query(ctx, c, query, func(workflowID, _ string) error {
		key, ok := strings.CutPrefix(workflowID, "underwrite/")
		if l, _ := loan.SplitApplicationKey(key); ok && l == lender {
			seen[key] = true
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("--query: %w", err)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	id := hex.EncodeToString(sum[:8])
	n, err := st.SaveRescoreSelection(ctx, id, keys)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", fmt.Errorf("--query: %q matches no application of lender %s", query, lender)
	}
	return id, nil
}

// rescoreFiles reads the model and policy files (the embedded policy v2 without one) and
// checks that they make an engine. It returns their JSON for the workflow's input.
func rescoreFiles(modelPath, policyPath string) (model, policy []byte, eng *scoring.Engine, err error) {
	if model, err = os.ReadFile(modelPath); err != nil {
		return nil, nil, nil, fmt.Errorf("--model: %w", err)
	}
	policy = scoring.DefaultPolicyFile()
	if policyPath != "" {
		if policy, err = os.ReadFile(policyPath); err != nil {
			return nil, nil, nil, fmt.Errorf("--policy: %w", err)
		}
	}
	if eng, err = loadEngine(modelPath, policyPath); err != nil {
		return nil, nil, nil, err
	}
	return model, policy, eng, nil
}

// runRescore starts the re-score's workflow, or attaches to the one already running with
// the same id, and waits for its result.
func runRescore(ctx context.Context, c tclient.Client, in workflows.RescoreInput, stderr io.Writer) (workflows.RescoreProgress, string, error) {
	dayOf := func(t time.Time) string { return t.Format(time.DateOnly) }
	wid := workflows.RescoreWorkflowID(in.Selection.Lender, in.ModelVersion, in.PolicyVersion,
		dayOf(in.Selection.From), dayOf(in.Selection.To))
	if in.Selection.SelectionID != "" {
		wid = workflows.RescoreWorkflowID(in.Selection.Lender, in.ModelVersion, in.PolicyVersion, "query", in.Selection.SelectionID)
	}
	run, err := c.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
		ID: wid, TaskQueue: workflows.TaskQueue,
		// A second command while the first runs waits for the same run rather than
		// scoring the same applications twice.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.SALender.ValueSet(in.Selection.Lender)),
	}, workflows.RescoreWorkflowName, in)
	if err != nil {
		return workflows.RescoreProgress{}, wid, fmt.Errorf("start re-score workflow %s: %w", wid, err)
	}
	fmt.Fprintf(stderr, "rescore: workflow %s run %s\n", wid, run.GetRunID())
	var res workflows.RescoreProgress
	if err := run.Get(ctx, &res); err != nil {
		return res, wid, fmt.Errorf("re-score workflow %s: %w", wid, err)
	}
	return res, wid, nil
}

// rescoreReport prints what the re-score changed. It fails, naming the first application,
// when a re-score under its decision's own versions differs from the decision: scoring is
// deterministic, so that is a bug in this build.
func rescoreReport(w io.Writer, eng *scoring.Engine, pairs []store.RescorePair) error {
	if len(pairs) == 0 {
		fmt.Fprintln(w, "no application with a snapshot was decided in the period")
		return nil
	}
	if err := reportSameVersions(w, pairs); err != nil {
		return err
	}
	reportSwaps(w, pairs)
	orig, neu := bothScored(pairs)
	reportScoreShift(w, orig, neu)
	reportCharacteristics(w, eng, pairs)
	reportOutcomes(w, pairs)
	return nil
}

// reportSameVersions checks the pairs whose decision has the re-score's versions: each must
// reproduce its decision's outcome, score, PD, features, points, rules and reasons.
func reportSameVersions(w io.Writer, pairs []store.RescorePair) error {
	n := 0
	for _, p := range pairs {
		d, r := p.Original, p.Rescore
		if d.ModelVersion != r.ModelVersion || d.PolicyVersion != r.PolicyVersion || d.FeatureSetVersion != r.FeatureSetVersion {
			continue
		}
		n++
		if diff := rescoreDiff(d, r); diff != "" {
			return fmt.Errorf("rescore: %s under its own versions %s/%s/%s differs from its decision: %s",
				p.ApplicationID, d.FeatureSetVersion, d.ModelVersion, d.PolicyVersion, diff)
		}
	}
	if n > 0 {
		fmt.Fprintf(w, "same versions as the decision: %d of %d reproduce outcome, score, PD, features, points, rules and reasons exactly\n", n, n)
	}
	return nil
}

// rescoreDiff names the first field in which a re-score differs from its decision ("" when
// none does). JSON documents are compared decoded: jsonb reorders keys.
func rescoreDiff(d store.Decision, r store.Rescore) string {
	switch {
	case d.Outcome != r.Outcome:
		return fmt.Sprintf("outcome %s, re-scored %s", d.Outcome, r.Outcome)
	case !reflect.DeepEqual(d.Score, r.Score):
		return fmt.Sprintf("score %s, re-scored %s", fmtIntPtr(d.Score), fmtIntPtr(r.Score))
	case !reflect.DeepEqual(d.PD, r.PD):
		return "pd"
	}
	for _, f := range []struct {
		name string
		a, b json.RawMessage
	}{{"features", d.Features, r.Features}, {"points", d.Points, r.Points}, {"rules", d.Rules, r.Rules}, {"reasons", d.Reasons, r.Reasons}} {
		var a, b any
		if json.Unmarshal(f.a, &a) != nil || json.Unmarshal(f.b, &b) != nil || !reflect.DeepEqual(a, b) {
			return f.name
		}
	}
	return ""
}

func fmtIntPtr(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// reportSwaps prints the outcome transitions: approve → decline, decline → approve, the
// moves into and out of refer, and the whole matrix.
func reportSwaps(w io.Writer, pairs []store.RescorePair) {
	outcomes := []string{loan.OutcomeApprove, loan.OutcomeRefer, loan.OutcomeDecline}
	m := map[[2]string]int{}
	for _, p := range pairs {
		m[[2]string{p.Original.Outcome, p.Rescore.Outcome}]++
	}
	n := float64(len(pairs))
	into, outOf, same := 0, 0, 0
	for _, o := range outcomes {
		same += m[[2]string{o, o}]
		if o != loan.OutcomeRefer {
			into += m[[2]string{o, loan.OutcomeRefer}]
			outOf += m[[2]string{loan.OutcomeRefer, o}]
		}
	}
	fmt.Fprintln(w, "\nswap set")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(name string, k int) { fmt.Fprintf(tw, "  %s\t%d\t%.1f%%\n", name, k, 100*float64(k)/n) }
	line("approve → decline", m[[2]string{loan.OutcomeApprove, loan.OutcomeDecline}])
	line("decline → approve", m[[2]string{loan.OutcomeDecline, loan.OutcomeApprove}])
	line("→ refer", into)
	line("refer →", outOf)
	line("unchanged", same)
	tw.Flush()
	fmt.Fprintln(w, "\n  original \\ new   approve  refer  decline")
	for _, o := range outcomes {
		fmt.Fprintf(w, "  %-16s %7d %6d %8d\n", o, m[[2]string{o, loan.OutcomeApprove}], m[[2]string{o, loan.OutcomeRefer}],
			m[[2]string{o, loan.OutcomeDecline}])
	}
}

// bothScored returns the original and new scores of the pairs scored under both versions.
func bothScored(pairs []store.RescorePair) (orig, neu []float64) {
	for _, p := range pairs {
		if p.Original.Score != nil && p.Rescore.Score != nil {
			orig = append(orig, float64(*p.Original.Score))
			neu = append(neu, float64(*p.Rescore.Score))
		}
	}
	return orig, neu
}

// reportScoreShift prints the shift new − original (mean, p10, p50, p90) and the PSI of
// the score over bins at the original scores' deciles.
func reportScoreShift(w io.Writer, orig, neu []float64) {
	if len(orig) == 0 {
		fmt.Fprintln(w, "\nscore shift: no application scored under both versions")
		return
	}
	shift := make([]float64, len(orig))
	for i := range orig {
		shift[i] = neu[i] - orig[i]
	}
	sort.Float64s(shift)
	q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, shift, nil) }
	fmt.Fprintf(w, "\nscore shift (new − original, %d scored by both): mean %+.1f  p10 %+.0f  p50 %+.0f  p90 %+.0f\n",
		len(shift), stat.Mean(shift, nil), q(0.1), q(0.5), q(0.9))
	edges := decileEdges(orig)
	psi, err := scoring.PSI(binCounts(orig, edges), binCounts(neu, edges))
	if err != nil {
		fmt.Fprintf(w, "score PSI: %v\n", err)
		return
	}
	fmt.Fprintf(w, "score PSI: %.4f (%d bins at the original scores' deciles)\n", psi, len(edges)+1)
}

// decileEdges returns the distinct inner deciles of xs, ascending: the cut points of at
// most scoreBins bins.
func decileEdges(xs []float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var edges []float64
	for i := 1; i < scoreBins; i++ {
		e := stat.Quantile(float64(i)/scoreBins, stat.Empirical, s, nil)
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	// A bin starts at its edge; an edge at the minimum would leave the first bin empty.
	if len(edges) > 0 && edges[0] <= s[0] {
		edges = edges[1:]
	}
	return edges
}

// binCounts counts xs in the bins (−∞, e0), [e0, e1), …, [eₙ, ∞).
func binCounts(xs, edges []float64) []float64 {
	out := make([]float64, len(edges)+1)
	for _, x := range xs {
		out[sort.Search(len(edges), func(i int) bool { return edges[i] > x })]++
	}
	return out
}

// reportCharacteristics prints, for each characteristic of the new model that the
// original decisions scored too (by code), the PSI of its feature between the original
// and the new feature vectors over the new model's bins, and its mean points in both.
func reportCharacteristics(w io.Writer, eng *scoring.Engine, pairs []store.RescorePair) {
	type acc struct {
		orig, neu             []*float64
		origPoints, newPoints float64
		n                     int
	}
	accs := map[string]*acc{}
	for _, p := range pairs {
		if p.Original.Score == nil || p.Rescore.Score == nil {
			continue
		}
		var of, nf scoring.Features
		if json.Unmarshal(p.Original.Features, &of) != nil || json.Unmarshal(p.Rescore.Features, &nf) != nil {
			continue
		}
		op, np := pointsByCode(p.Original.Points), pointsByCode(p.Rescore.Points)
		for _, c := range eng.Model.Characteristics {
			o, ok := op[c.Code]
			if !ok {
				continue
			}
			a := accs[c.Code]
			if a == nil {
				a = &acc{}
				accs[c.Code] = a
			}
			ov, _ := scoring.FeatureValue(&of, c.Feature)
			nv, _ := scoring.FeatureValue(&nf, c.Feature)
			a.orig, a.neu = append(a.orig, ov), append(a.neu, nv)
			a.origPoints += float64(o)
			a.newPoints += float64(np[c.Code])
			a.n++
		}
	}
	fmt.Fprintln(w, "\ncharacteristic PSI (feature values of the original and the new vectors, over the new model's bins)")
	if len(accs) == 0 {
		fmt.Fprintln(w, "  no characteristic of the new model was scored by the original decisions")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CODE\tFEATURE\tPSI\tMEAN POINTS ORIGINAL\tNEW")
	for _, c := range eng.Model.Characteristics {
		a := accs[c.Code]
		if a == nil {
			continue
		}
		psi, err := scoring.PSI(c.BinCounts(a.orig), c.BinCounts(a.neu))
		cell := fmt.Sprintf("%.4f", psi)
		if err != nil {
			cell = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%.1f\t%.1f\n", c.Code, c.Feature, cell, a.origPoints/float64(a.n), a.newPoints/float64(a.n))
	}
	tw.Flush()
}

// pointsByCode maps a stored points array to each characteristic's points.
func pointsByCode(doc json.RawMessage) map[string]int {
	var pts []scoring.CharacteristicPoints
	out := map[string]int{}
	if json.Unmarshal(doc, &pts) != nil {
		return out
	}
	for _, p := range pts {
		out[p.Code] = p.Points
	}
	return out
}

// reportOutcomes prints AUC and KS of both versions on the applications scored by both
// whose loan outcome is known (defaulted and charged_off are bad).
func reportOutcomes(w io.Writer, pairs []store.RescorePair) {
	var orig, neu []float64
	var bad []bool
	bads := 0
	for _, p := range pairs {
		if p.LoanOutcome == nil || p.Original.Score == nil || p.Rescore.Score == nil {
			continue
		}
		orig = append(orig, float64(*p.Original.Score))
		neu = append(neu, float64(*p.Rescore.Score))
		b := store.IsBadLoanOutcome(*p.LoanOutcome)
		bad = append(bad, b)
		if b {
			bads++
		}
	}
	fmt.Fprintf(w, "\nloan outcomes known for %d applications scored by both (%d bad)\n", len(bad), bads)
	if len(bad) == 0 {
		return
	}
	for _, v := range []struct {
		name   string
		scores []float64
	}{{"original", orig}, {"new", neu}} {
		auc, err := scoring.AUC(v.scores, bad)
		if err != nil {
			fmt.Fprintf(w, "  %-8s  AUC and KS need both repaid and bad loans\n", v.name)
			continue
		}
		ks, _ := scoring.KS(v.scores, bad) // the same curve as AUC's: no error where it had none
		fmt.Fprintf(w, "  %-8s  AUC %.3f  KS %.3f\n", v.name, auc, ks)
	}
}
