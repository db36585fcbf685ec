//go:build race

package bench

// The race detector slows deciding the equivalence corpus twentyfold (eight minutes of
// CI); under it the tests check every raceStride-th ledger, and `make model` checks
// them all without it.
func init() { raceEnabled = true }
