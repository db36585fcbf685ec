package scoring

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Newton's method for the logistic regressions of the trainer.
const (
	// newtonMaxIter bounds the iterations; Newton's method converges quadratically on
	// this convex loss and needs about ten, so the bound only stops a stall.
	newtonMaxIter = 100
	// newtonTol: the fit has converged when no coefficient moves by more than 1e-10, far
	// below anything the points (rounded to integers) or the PD (6 decimals) can show.
	newtonTol = 1e-10
	// minStepShare: a step halved below 2⁻⁴⁰ of Newton's step no longer lowers the loss
	// in float64; the fit is then at the optimum to machine precision.
	minStepShare = 0x1p-40
)

// minCalibrationClass: Platt scaling needs at least 10 defaults and 10 non-defaults in
// the hold-out. With fewer its two parameters rest on a handful of outcomes, or
// separate them perfectly, and the PD stays the regression's own (the scaling
// calibration), fitted on the training part.
const minCalibrationClass = 10

// fitLogistic fits ln(P(good)/P(bad)) = β₀ + Σ βⱼ·xⱼ, with xⱼ = cols[j][i] for each
// sample i in rows, by minimising the mean negative log-likelihood plus
// (l2/2)·Σβⱼ² (j ≥ 1) with Newton's method: β ← β − t·H⁻¹g, the gradient g and
// Hessian H of the penalised loss, H solved by Cholesky, t halved until the loss falls.
// β₀ starts at the log-odds of the rows' goods. It returns β, β₀ first.
func fitLogistic(cols [][]float64, good []bool, rows []int, l2 float64) ([]float64, error) {
	k := len(cols) + 1
	lf := logLoss{k: k, l2: l2, x: make([]float64, len(rows)*k), y: make([]float64, len(rows))}
	goods := 0
	for r, i := range rows {
		lf.x[r*k] = 1
		for j, c := range cols {
			lf.x[r*k+j+1] = c[i]
		}
		if good[i] {
			lf.y[r] = 1
			goods++
		}
	}
	beta := make([]float64, k)
	if goods > 0 && goods < len(rows) {
		beta[0] = math.Log(float64(goods) / float64(len(rows)-goods))
	}
	loss := lf.value(beta)
	g, h := make([]float64, k), mat.NewSymDense(k, nil)
	step, next := mat.NewVecDense(k, nil), make([]float64, k)
	var chol mat.Cholesky
	for range newtonMaxIter {
		lf.derivatives(beta, g, h)
		if !chol.Factorize(h) {
			return nil, fmt.Errorf("fit logistic regression: Hessian not positive definite")
		}
		if err := chol.SolveVecTo(step, mat.NewVecDense(k, g)); err != nil {
			return nil, fmt.Errorf("fit logistic regression: %w", err)
		}
		t, moved := 1.0, false
		for ; t >= minStepShare; t /= 2 {
			for j := range beta {
				next[j] = beta[j] - t*step.AtVec(j)
			}
			if v := lf.value(next); v <= loss {
				loss, moved = v, true
				break
			}
		}
		if !moved {
			break
		}
		largest := 0.0
		for j := range beta {
			largest = math.Max(largest, math.Abs(next[j]-beta[j]))
		}
		copy(beta, next)
		if largest < newtonTol {
			break
		}
	}
	for _, v := range beta {
		if !finite(v) {
			return nil, fmt.Errorf("fit logistic regression: coefficient not finite")
		}
	}
	return beta, nil
}

// logLoss is the penalised mean negative log-likelihood of a logistic regression: x
// the row-major design (k columns, the first all ones), y 1 for good and 0 for bad.
type logLoss struct {
	k  int
	l2 float64
	x  []float64
	y  []float64
}

// value returns (1/n)·Σ [ln(1 + e^z) − y·z] + (l2/2)·Σ_{j≥1} βⱼ², z = x·β.
func (lf logLoss) value(beta []float64) float64 {
	var nll float64
	for r, y := range lf.y {
		z := dot(lf.x[r*lf.k:(r+1)*lf.k], beta)
		nll += softplus(z) - y*z
	}
	reg := 0.0
	for _, v := range beta[1:] {
		reg += v * v
	}
	return nll/float64(len(lf.y)) + lf.l2/2*reg
}

// derivatives sets g to the gradient (1/n)·Σ (p − y)·x + l2·β (j ≥ 1) and h to the
// Hessian (1/n)·Σ p(1 − p)·x·xᵀ + l2·I (j ≥ 1), p = σ(x·β).
func (lf logLoss) derivatives(beta, g []float64, h *mat.SymDense) {
	k := lf.k
	clear(g)
	acc := make([]float64, k*k)
	for r, y := range lf.y {
		row := lf.x[r*k : (r+1)*k]
		p := sigmoid(dot(row, beta))
		e, w := p-y, p*(1-p)
		for a := range k {
			g[a] += e * row[a]
			wa := w * row[a]
			for b := a; b < k; b++ {
				acc[a*k+b] += wa * row[b]
			}
		}
	}
	n := float64(len(lf.y))
	for a := range k {
		g[a] /= n
		if a > 0 {
			g[a] += lf.l2 * beta[a]
		}
		for b := a; b < k; b++ {
			v := acc[a*k+b] / n
			if a == b && a > 0 {
				v += lf.l2
			}
			h.SetSym(a, b, v)
		}
	}
}

// calibratePD fits the PD of m on the hold-out rows by Platt scaling: a logistic
// regression ln(good:bad odds) = a + b·x of the hold-out outcomes on
// x = (score − offset)/factor, the log-odds the points scaling reads from the score
// (so a = 0, b = 1 would mean the scaling was already calibrated). It stores it as the
// logistic calibration intercept = a − b·offset/factor, slope = b/factor, and fails
// when b ≤ 0: scores that do not rank the hold-out cannot be calibrated. A hold-out with
// fewer than minCalibrationClass of either class leaves m's calibration as it is.
func calibratePD(m *Model, ss []TrainingSample, test []int, l2 float64) error {
	sc := m.Scaling
	x, good := make([]float64, len(ss)), make([]bool, len(ss))
	goods := 0
	for _, i := range test {
		x[i] = (float64(m.Score(&ss[i].Features).Score) - sc.Offset) / sc.Factor
		good[i] = !ss[i].Defaulted
		if good[i] {
			goods++
		}
	}
	if min(goods, len(test)-goods) < minCalibrationClass {
		return nil
	}
	beta, err := fitLogistic([][]float64{x}, good, test, l2)
	if err != nil {
		return fmt.Errorf("calibrate PD: %w", err)
	}
	a, b := beta[0], beta[1]
	if !(b > 0) {
		return fmt.Errorf("%w: the hold-out scores do not rank defaults (Platt slope %v)", ErrTraining, b)
	}
	m.PDCalibration = PDCalibration{Method: CalibrationLogistic, Intercept: a - b*sc.Offset/sc.Factor, Slope: b / sc.Factor,
		Decimals: pdDecimals, FittedOn: CalibrationFittedOnHoldout, Samples: len(test)}
	if err := m.validate(); err != nil {
		return fmt.Errorf("validate calibrated model: %w", err)
	}
	return nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// softplus is ln(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
