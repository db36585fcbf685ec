package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChaosRefusesBadFlagsBeforeStartingAnything(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--applications", "0"}, "--applications 0: must be at least 1"},
		{[]string{"--workers", "-1"}, "--workers -1: must be at least 1"},
		{[]string{"--concurrency", "0"}, "--concurrency 0: must be at least 1"},
		{[]string{"--timeout", "0s"}, "--timeout 0s: must be positive"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"underwriter", "chaos"}, tc.args...), env(nil), &out, &out)
		require.ErrorContains(t, err, tc.want)
		require.Empty(t, out.String(), "nothing ran")
	}
}
