//go:build race

package population

// The race detector slows the table test tenfold; TestCurrentModelTable then measures a
// smaller population (see tableSize).
func init() { raceEnabled = true }
