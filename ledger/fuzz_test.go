package ledger_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// FuzzParse: Parse on arbitrary bytes never panics; it either refuses them with an error
// wrapping ErrInvalid, or returns a File that Validate accepts and that survives
// Marshal → Parse unchanged. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ledger.Parse(data)
		if err != nil {
			require.True(t, errors.Is(err, ledger.ErrInvalid), "error does not wrap ErrInvalid: %v", err)
			return
		}
		require.NoError(t, file.Validate())
		out, err := file.Marshal()
		require.NoError(t, err)
		again, err := ledger.Parse(out)
		require.NoError(t, err, "Marshal's output does not parse:\n%s", out)
		require.Equal(t, file, again)
	})
}
