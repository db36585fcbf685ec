//go:build race

package population

// The race detector slows the table test tenfold; TestShippedModelTable then measures a
// smaller population (see tableSize).
func init() { raceEnabled = true }
