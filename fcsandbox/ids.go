package fcsandbox

import (
	"crypto/rand"
	"math/big"
)

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Id prefixes, as Stripe uses them.
const (
	prefixCustomer    = "cus_"
	prefixSession     = "fcsess_"
	prefixAccount     = "fca_"
	prefixTransaction = "fctxn_"
	prefixTxnRefresh  = "fctxnref_"
	prefixEvent       = "evt_"
	prefixRequest     = "req_"
	prefixOwnership   = "fcaowns_"
)

// newID returns prefix followed by n random base-62 characters from crypto/rand.
func newID(prefix string, n int) string {
	b := make([]byte, 0, len(prefix)+n)
	b = append(b, prefix...)
	max := big.NewInt(int64(len(idAlphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			// crypto/rand does not fail on supported platforms.
			panic("fcsandbox: read random: " + err.Error())
		}
		b = append(b, idAlphabet[i.Int64()])
	}
	return string(b)
}
