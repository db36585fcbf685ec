package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReplayCommand: `underwriter replay FILE…` replays every recorded history and says
// so; a history the current code no longer produces (here: one whose first activity was
// renamed, as a change of command sequence would) makes it exit with an error naming the
// run and the event; bad arguments are refused before anything runs.
func TestReplayCommand(t *testing.T) {
	ctx := context.Background()
	files, err := filepath.Glob("../../testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)

	var out bytes.Buffer
	require.NoError(t, run(ctx, append([]string{"underwriter", "replay"}, files...), getenvOf(nil), &out, &bytes.Buffer{}))
	require.Contains(t, out.String(), "runs replayed, 0 failed")
	require.Equal(t, len(files)+3, strings.Count(out.String(), "\n"), "a header, a line per run, a blank line and the total")

	b, err := os.ReadFile(files[len(files)-1])
	require.NoError(t, err)
	require.Contains(t, string(b), `"RegisterApplication"`)
	changed := filepath.Join(t.TempDir(), "changed.json")
	require.NoError(t, os.WriteFile(changed, []byte(strings.Replace(string(b), `"RegisterApplication"`, `"RenamedActivity"`, 1)), 0o600))
	out.Reset()
	err = run(ctx, []string{"underwriter", "replay", files[0], changed}, getenvOf(nil), &out, &bytes.Buffer{})
	require.Error(t, err)
	require.Regexp(t, `^replay: underwrite/\S+ \(`+regexpQuote(changed)+`, run \S+\): \[TMPRL1100\]`, err.Error())
	require.Contains(t, out.String(), "FAILS")
	require.Contains(t, out.String(), "2 runs replayed, 1 failed")

	out.Reset()
	require.NoError(t, run(ctx, []string{"underwriter", "replay", "--json", files[0]}, getenvOf(nil), &out, &bytes.Buffer{}))
	require.Contains(t, out.String(), `"status":"completed"`)
	require.Contains(t, out.String(), `"Outcome":`)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "replay: name history files, or --workflow-id, or --query"},
		{[]string{"--workflow-id", "w", "--query", "q"}, "--workflow-id and --query: give one"},
		{[]string{"--run-id", "r"}, "--run-id: needs --workflow-id"},
		{[]string{"--lender", "acme", files[0]}, "--lender: needs --query"},
		{[]string{"--query", "x", "--lender", "A/B"}, `--lender: lender "A/B": must be 1-32 lowercase letters, digits or '-', starting with a letter or digit`},
		{[]string{"../../go.mod"}, "../../go.mod: not a Temporal history exported as JSON"},
	} {
		err := run(ctx, append([]string{"underwriter", "replay"}, tc.args...), getenvOf(nil), &bytes.Buffer{}, &bytes.Buffer{})
		require.Error(t, err, "%v", tc.args)
		require.True(t, strings.HasPrefix(err.Error(), tc.want), "%v: %v", tc.args, err)
	}
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(`.`, `\.`, `(`, `\(`, `)`, `\)`, `+`, `\+`)
	return r.Replace(s)
}
