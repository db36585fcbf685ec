package pgembed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoPostgresSaysWhatToDo: on a machine without PostgreSQL's binaries, Start fails with
// ErrNoPostgres, whose message names both ways out.
func TestNoPostgresSaysWhatToDo(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := debianBinGlob
	debianBinGlob = filepath.Join(t.TempDir(), "*", "bin")
	t.Cleanup(func() { debianBinGlob = old })

	_, err := Start(context.Background(), Options{})
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrNoPostgres), "%v", err)
	require.Contains(t, err.Error(), "apt-get install postgresql")
	require.Contains(t, err.Error(), "DATABASE_URL")
}

// TestFindsDebianBinaries: the binaries are found under the Debian layout when not on PATH,
// the newest major version first.
func TestFindsDebianBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "13"} {
		dir := filepath.Join(root, v, "bin")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for _, b := range []string{"initdb", "postgres"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755))
		}
	}
	old := debianBinGlob
	debianBinGlob = filepath.Join(root, "*", "bin")
	t.Cleanup(func() { debianBinGlob = old })

	dir, err := findBinDir()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "15", "bin"), dir)
}
