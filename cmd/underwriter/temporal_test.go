package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTemporalBadConfigurationNamesTheFlag: `underwriter temporal` refuses what cannot
// work before it starts anything, naming the flag, and never echoes the password.
func TestTemporalBadConfigurationNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no database", nil, nil, "--database-url (TEMPORAL_DATABASE_URL): not set"},
		{"no database name", []string{"--database-url", "postgres://u:secret@127.0.0.1:5432"}, nil, "--database-url: no database name"},
		{"not postgres", []string{"--database-url", "mysql://u:secret@127.0.0.1/temporal"}, nil, `--database-url: scheme "mysql"`},
		{"from the environment", nil, map[string]string{"TEMPORAL_DATABASE_URL": "postgres://u:secret@127.0.0.1:bad/temporal"}, "--database-url: not a URL"},
		{"the application's database", []string{"--database-url", "postgres://u:secret@127.0.0.1:5432/underwriter"},
			map[string]string{"DATABASE_URL": "postgres://app@127.0.0.1/underwriter"}, "--database-url: database underwriter is the application's (DATABASE_URL)"},
		{"bad port", []string{"--database-url", "postgres://u@127.0.0.1/temporal", "--port", "0"}, nil, "--port: 0"},
		{"bad ui port", []string{"--database-url", "postgres://u@127.0.0.1/temporal", "--ui-port", "70000"}, nil, "--ui-port: 70000"},
		{"no shards", []string{"--database-url", "postgres://u@127.0.0.1/temporal", "--history-shards", "0"}, nil, "--history-shards: 0"},
		{"short retention", []string{"--database-url", "postgres://u@127.0.0.1/temporal", "--retention", "1h"}, nil, "--retention: 1h0m0s"},
		{"unreachable database", []string{"--database-url", "postgres://u:secret@127.0.0.1:1/temporal", "--ui-port", "-1", "--port", freePort(t)}, nil,
			"--database-url: connect to database temporal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"underwriter", "temporal"}, tc.args...), env(tc.env), &out, &out)
			require.Error(t, err)
			require.False(t, errors.Is(err, flag.ErrHelp))
			require.Contains(t, err.Error(), tc.want)
			require.False(t, strings.Contains(err.Error(), "secret"), err.Error())
		})
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
