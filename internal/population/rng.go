package population

import (
	"math"
	"math/bits"
)

// splitmixGamma is splitmix64's increment, the odd integer closest to 2⁶⁴/φ.
const splitmixGamma = 0x9e3779b97f4a7c15

// Stream purposes: each applicant draws its traits, its ledger and its default label from
// three independent generators, so that a change to how ledgers are written never changes
// who the applicants are or who defaults.
const (
	purposeTraits uint64 = iota + 1
	purposeLedger
	purposeLabel
	purposeCalibration
)

// rng is splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014): a 64-bit state advanced by splitmixGamma and finalised by mix64.
// It is written here rather than taken from math/rand so that a population is a pure
// function of its seed whatever the Go release (math/rand/v2 documents its sources'
// output but not every method's algorithm).
type rng struct{ s uint64 }

// mix64 is splitmix64's finaliser (a bijection of uint64 with good avalanche).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newStream returns the generator of one purpose of applicant index in the population of
// seed. Streams of different (seed, index, purpose) start from unrelated states, so
// applicant i is the same whatever the population size.
func newStream(seed uint64, index int, purpose uint64) *rng {
	s := mix64(seed + splitmixGamma)
	s = mix64(s ^ (uint64(index)+1)*splitmixGamma)
	s = mix64(s ^ purpose*0xd1b54a32d192ed03) // another odd constant: purposes never collide with indexes
	return &rng{s: s}
}

func (r *rng) uint64() uint64 {
	r.s += splitmixGamma
	return mix64(r.s)
}

// float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *rng) float64() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// intn returns a uniform integer in [0, n); n must be positive. Lemire's multiply-shift
// without rejection: its bias, below n/2⁶⁴, is far below anything a population shows.
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("population: intn of a non-positive bound")
	}
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int(hi)
}

// between returns a uniform integer in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + int64(r.intn(int(hi-lo+1))) }

// uniform returns a uniform value in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float64() }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float64() < p }

// norm returns a standard normal value (Box–Muller; the sine half is discarded so that
// every call consumes exactly two draws).
func (r *rng) norm() float64 {
	u1 := 1 - r.float64() // (0, 1]: the logarithm stays finite
	u2 := r.float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// lognorm returns median·exp(sigma·Z).
func (r *rng) lognorm(median, sigma float64) float64 { return median * math.Exp(sigma*r.norm()) }

// poisson returns a Poisson variate of mean lambda (Knuth's product method; lambda is
// small wherever it is used).
func (r *rng) poisson(lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.float64()
		if p <= l {
			return k
		}
		k++
	}
}

// weighted returns an index drawn with the given non-negative weights.
func (r *rng) weighted(w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	u := r.float64() * sum
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// pick returns a uniformly drawn element of xs.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

const (
	digitChars = "0123456789"
	alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	idChars    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// chars returns n characters drawn from set.
func (r *rng) chars(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.intn(len(set))]
	}
	return string(b)
}
