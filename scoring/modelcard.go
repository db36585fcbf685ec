package scoring

import (
	"fmt"
	"math"
	"strings"
)

// ModelCard renders a markdown model card of a trained model: the training summary
// (hold-out AUC, KS, Gini and calibration error), how the characteristics were
// selected, the PD calibration with its table by score decile, the scaling, per
// characteristic its reason, information value, coefficient and bins (edges in original
// units, counts, bad rates, WoE and points), then the candidates left out and why.
func ModelCard(m *Model, dropped []Dropped) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Model card: %s\n\n", m.ModelVersion)
	p("Binned logistic-regression scorecard on feature set `%s`, reason codes `%s`.\n\n", m.FeatureSetVersion, m.ReasonCodeMapVersion)
	if t := m.Training; t != nil {
		cardTraining(p, t)
		if t.Selection != nil {
			cardSelection(p, t.Selection)
		}
	}
	cardCalibration(p, m)
	s := m.Scaling
	p("## Scaling\n\nscore = %.6f + %.6f·ln(good:bad odds): %g points at %g:1, %g points double the odds. Base points %d; scores run %d…%d.\n\n",
		s.Offset, s.Factor, s.ScoreAtBaseOdds, s.BaseOdds, s.PDO, m.BasePoints, m.BasePoints, m.MaxScore())
	cardCharacteristics(p, m.Characteristics)
	if len(dropped) > 0 {
		p("\n## Candidates left out\n\n| feature | reason | information value |\n|---|---|---|\n")
		for _, d := range dropped {
			p("| `%s` | %s | %.4f |\n", d.Feature, d.Reason, d.IV)
		}
	}
	return b.String()
}

// printer is the Fprintf the model card's sections write with.
type printer func(format string, args ...any)

// cardTraining renders the training summary table.
func cardTraining(p printer, t *TrainingInfo) {
	p("## Training\n\n| item | value |\n|---|---|\n")
	p("| samples | %d (%d defaults, %.2f %%) |\n", t.Samples, t.Defaults, 100*float64(t.Defaults)/float64(t.Samples))
	p("| training / hold-out | %d / %d (share %.2f, seed %d, stratified) |\n", t.TrainSamples, t.HoldoutSamples, t.HoldoutShare, t.Seed)
	p("| hold-out AUC | %.4f |\n| hold-out KS | %.4f |\n| hold-out Gini | %.4f |\n", t.HoldoutAUC, t.HoldoutKS, t.HoldoutGini)
	p("| hold-out calibration error (mean over score deciles of the gap between mean PD and observed default rate) | %.4f |\n",
		t.HoldoutCalibrationError)
	p("| training AUC | %.4f |\n", t.TrainAUC)
	p("| intercept (ln good:bad odds) | %.6f |\n| L2 penalty | %g |\n\n", t.Intercept, t.L2)
}

// cardSelection explains how the characteristics were chosen and lists the steps.
func cardSelection(p printer, s *SelectionInfo) {
	p("## Characteristic selection\n\n")
	p("Method: %s. All %d candidates (every numeric feature unless the run named others) were binned on the training part "+
		"into monotone bins: the WoE and the observed bad rate move in opposite senses from bin to bin, so the points "+
		"rise as the bad rate falls; undefined values get their own WoE, placed between the bins' as their bad "+
		"rate places them, or the worst bin's when fewer of them were seen than a bin must hold. Candidates with an information value below %g were dropped. Of candidates whose WoE "+
		"values correlate above %g (|Pearson r|), only the one with the largest information value stayed. Forward "+
		"selection then added, one at a time, the candidate that most raised the mean AUC over %d stratified "+
		"cross-validation folds of the training part, provided the refit on the whole training part kept every "+
		"coefficient positive, until no candidate added %g or %d characteristics were kept. No candidate is dropped because "+
		"its coefficient turned negative in a fit with everything: collinear candidates simply add nothing once the "+
		"strongest of them is in. The model is the final refit of the kept characteristics; every coefficient is positive.\n\n",
		s.Method, s.Candidates, s.MinIV, s.MaxCorrelation, s.Folds, s.MinAUCGain, s.MaxCharacteristics)
	p("| step | characteristic added | cross-validated AUC |\n|---|---|---|\n")
	for i, st := range s.Steps {
		p("| %d | `%s` | %.4f |\n", i+1, st.Feature, st.CVAUC)
	}
	p("\n")
}

// cardCalibration describes the PD calibration and, for a trained model, shows the
// hold-out calibration table.
func cardCalibration(p printer, m *Model) {
	c, s := m.PDCalibration, m.Scaling
	p("## PD calibration\n\n")
	switch c.Method {
	case CalibrationLogistic:
		// The Platt coefficients on the scaled score x = (score − offset)/factor.
		a, b := c.Intercept+c.Slope*s.Offset, c.Slope*s.Factor
		p("`logistic`: ln(good:bad odds) = %.6f + %.8f·score, PD = 1/(1 + odds), rounded to %d decimals. ", c.Intercept, c.Slope, c.Decimals)
		p("Platt scaling fitted on %d %s samples: ln odds = %.4f + %.4f·x with x = (score − offset)/factor, the log-odds "+
			"the scaling reads from the score (a = 0, b = 1 would mean the points were already calibrated).\n\n", c.Samples, c.FittedOn, a, b)
	default:
		p("`%s`: odds = exp((score − offset)/factor), PD = 1/(1 + odds), rounded to %d decimals.", c.Method, c.Decimals)
		if m.Training != nil {
			p(" The regression's own PD: the hold-out held fewer than %d defaults or non-defaults, too few for Platt scaling.",
				minCalibrationClass)
		}
		p("\n\n")
	}
	t := m.Training
	if t == nil || len(t.HoldoutCalibration) == 0 {
		return
	}
	p("Hold-out by score decile (the calibration error is the mean of the last column: %.4f):\n\n", t.HoldoutCalibrationError)
	p("| scores | count | mean predicted PD | observed default rate | difference |\n|---|---|---|---|---|\n")
	for _, g := range t.HoldoutCalibration {
		p("| %g–%g | %d | %.4f | %.4f | %.4f |\n", g.MinScore, g.MaxScore, g.Count, g.MeanPD, g.ObservedRate, math.Abs(g.MeanPD-g.ObservedRate))
	}
	p("\n")
}

// cardCharacteristics renders the characteristics table and each one's bins.
func cardCharacteristics(p printer, chars []Characteristic) {
	p("## Characteristics\n\n| code | feature | reason text | Information value | coefficient | max points |\n|---|---|---|---|---|---|\n")
	for _, c := range chars {
		p("| %s | `%s` | %s | %.4f | %.4f | %d |\n", c.Code, c.Feature, c.Text, c.InformationValue, c.Coefficient, c.MaxPointsRef)
	}
	for _, c := range chars {
		p("\n### %s — `%s`\n\n%s. Edges in the feature's original units (minor units, days, counts or ratios); a value on an edge belongs to the bin above it.\n\n", c.Code, c.Feature, c.Text)
		p("| bin | count | bad rate | WoE | points |\n|---|---|---|---|---|\n")
		for _, bin := range c.Bins {
			p("| %s | %d | %s | %.4f | %d |\n", bin.Label, bin.Count, rate(bin.Bads, bin.Count), bin.WoE, bin.Points)
		}
		p("| undefined | %d | %s | %.4f | %d |\n", c.UndefinedCount, rate(c.UndefinedBads, c.UndefinedCount), c.UndefinedWoE, c.Undefined)
	}
}

func rate(bads, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f %%", 100*float64(bads)/float64(n))
}
