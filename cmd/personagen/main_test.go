package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
)

const committed = "../../fcsandbox/personas"

// TestGeneratedFilesAreCommitted fails when the committed persona files differ from
// what the generator writes; regenerate with `go generate ./fcsandbox/`.
func TestGeneratedFilesAreCommitted(t *testing.T) {
	t.Parallel()
	files, err := generate()
	require.NoError(t, err)
	require.Len(t, files, len(personas)+1)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(committed, name))
		require.NoError(t, err, name)
		require.True(t, string(want) == string(got), "%s differs from the generator output; run go generate ./fcsandbox/", name)
		require.Less(t, len(got), 400_000, "%s must stay under ~400 KB", name)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := generate()
	require.NoError(t, err)
	b, err := generate()
	require.NoError(t, err)
	require.Equal(t, a, b)
}

func TestRunWritesFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, run(dir))
	// The sandbox loads what was written: the manifest and every ledger parse and validate.
	ps, err := fcsandbox.LoadPersonas(os.DirFS(dir))
	require.NoError(t, err)
	names := map[string]string{}
	for _, p := range ps {
		names[p.Name] = p.ExpectedOutcome
	}
	require.Equal(t, map[string]string{
		"steady_salaried": "approve", "gig_irregular": "refer", "overdraft_nsf": "decline", "thin_file": "decline",
		"declining_balances": "decline", "high_income_two_accounts": "approve", "refresh_fails": "refer",
	}, names)
}
