package scoring

import (
	"fmt"
	"strings"
)

// ModelCard renders a markdown model card of a trained model: the training summary,
// hold-out AUC, KS and Gini, and per characteristic its information value,
// coefficient and bins (edges in original units, counts, bad rates, WoE and points),
// then the candidates left out and why.
func ModelCard(m *Model, dropped []Dropped) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Model card: %s\n\n", m.ModelVersion)
	fmt.Fprintf(&b, "Binned logistic-regression scorecard on feature set `%s`, reason codes `%s`.\n\n", m.FeatureSetVersion, m.ReasonCodeMapVersion)
	if t := m.Training; t != nil {
		fmt.Fprintf(&b, "## Training\n\n")
		fmt.Fprintf(&b, "| item | value |\n|---|---|\n")
		fmt.Fprintf(&b, "| samples | %d (%d defaults, %.2f %%) |\n", t.Samples, t.Defaults, 100*float64(t.Defaults)/float64(t.Samples))
		fmt.Fprintf(&b, "| training / hold-out | %d / %d (share %.2f, seed %d, stratified) |\n", t.TrainSamples, t.HoldoutSamples, t.HoldoutShare, t.Seed)
		fmt.Fprintf(&b, "| hold-out AUC | %.4f |\n| hold-out KS | %.4f |\n| hold-out Gini | %.4f |\n| training AUC | %.4f |\n", t.HoldoutAUC, t.HoldoutKS, t.HoldoutGini, t.TrainAUC)
		fmt.Fprintf(&b, "| intercept (ln good:bad odds) | %.6f |\n| L2 penalty | %g |\n\n", t.Intercept, t.L2)
	}
	s := m.Scaling
	fmt.Fprintf(&b, "## Scaling\n\nscore = %.6f + %.6f·ln(good:bad odds): %g points at %g:1, %g points double the odds. Base points %d; scores run %d…%d. PD: `%s` calibration, %d decimals.\n\n",
		s.Offset, s.Factor, s.ScoreAtBaseOdds, s.BaseOdds, s.PDO, m.BasePoints, m.BasePoints, m.MaxScore(), m.PDCalibration.Method, m.PDCalibration.Decimals)
	fmt.Fprintf(&b, "## Characteristics\n\n| code | feature | Information value | coefficient | max points |\n|---|---|---|---|---|\n")
	for _, c := range m.Characteristics {
		fmt.Fprintf(&b, "| %s | `%s` | %.4f | %.4f | %d |\n", c.Code, c.Feature, c.InformationValue, c.Coefficient, c.MaxPointsRef)
	}
	for _, c := range m.Characteristics {
		fmt.Fprintf(&b, "\n### %s — `%s`\n\n%s. Edges in the feature's original units (minor units, days, counts or ratios); a value on an edge belongs to the bin above it.\n\n", c.Code, c.Feature, c.Text)
		fmt.Fprintf(&b, "| bin | count | bad rate | WoE | points |\n|---|---|---|---|---|\n")
		for _, bin := range c.Bins {
			fmt.Fprintf(&b, "| %s | %d | %s | %.4f | %d |\n", bin.Label, bin.Count, rate(bin.Bads, bin.Count), bin.WoE, bin.Points)
		}
		fmt.Fprintf(&b, "| undefined | %d | %s | %.4f | %d |\n", c.UndefinedCount, rate(c.UndefinedBads, c.UndefinedCount), c.UndefinedWoE, c.Undefined)
	}
	if len(dropped) > 0 {
		fmt.Fprintf(&b, "\n## Candidates left out\n\n| feature | reason | information value |\n|---|---|---|\n")
		for _, d := range dropped {
			fmt.Fprintf(&b, "| `%s` | %s | %.4f |\n", d.Feature, d.Reason, d.IV)
		}
	}
	return b.String()
}

func rate(bads, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f %%", 100*float64(bads)/float64(n))
}
