package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const committed = "../../testdata/personas"

// TestGeneratedFilesAreCommitted fails when the committed persona files differ from
// what the generator writes; regenerate with `go generate ./scoring/`.
func TestGeneratedFilesAreCommitted(t *testing.T) {
	t.Parallel()
	files, err := generate()
	require.NoError(t, err)
	require.Len(t, files, len(personas)+1)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(committed, name))
		require.NoError(t, err, name)
		require.True(t, string(want) == string(got), "%s differs from the generator output; run go generate ./scoring/", name)
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
	var m struct {
		Personas []manifestEntry `json:"personas"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "personas.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &m))
	names := map[string]string{}
	for _, p := range m.Personas {
		names[p.Name] = p.ExpectedOutcome
		_, err := os.Stat(filepath.Join(dir, p.Ledger))
		require.NoError(t, err)
	}
	require.Equal(t, map[string]string{
		"steady_salaried": "approve", "gig_irregular": "refer", "overdraft_nsf": "decline", "thin_file": "decline",
		"declining_balances": "decline", "high_income_two_accounts": "approve", "refresh_fails": "refer",
	}, names)
}
