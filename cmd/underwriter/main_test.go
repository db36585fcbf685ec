package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestHelpExplainsEveryFlagAndVariable(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"underwriter", "--help"}, env(nil), &out, &out))
	for _, c := range commands() {
		require.Contains(t, out.String(), c.name)

		var help bytes.Buffer
		err := run(context.Background(), []string{"underwriter", c.name, "--help"}, env(nil), &help, &help)
		require.ErrorIs(t, err, flag.ErrHelp)
		for _, e := range c.env {
			require.Contains(t, help.String(), e.name, "%s --help", c.name)
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs, env(nil))
		fs.VisitAll(func(f *flag.Flag) {
			require.Contains(t, help.String(), "-"+f.Name, "%s --help", c.name)
			require.NotEmpty(t, f.Usage)
		})
	}
}

func TestBadConfigurationNamesTheSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown command", []string{"underwriter", "launch"}, nil, `unknown command "launch"`},
		{"api without stripe key", []string{"underwriter", "api"}, map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY: not set"},
		{"api without webhook secret", []string{"underwriter", "api"}, map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET: not set"},
		{"api with a bad link timeout", []string{"underwriter", "api"}, map[string]string{"STRIPE_SECRET_KEY": "sk_test_x", "UNDERWRITER_LINK_TIMEOUT": "soon"}, "UNDERWRITER_LINK_TIMEOUT"},
		{"worker without database", []string{"underwriter", "worker"}, map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}, "DATABASE_URL: not set"},
		{"bad log level", []string{"underwriter", "worker", "--log-level", "loud"}, nil, "log-level"},
		{"sandbox webhook without secret", []string{"underwriter", "sandbox"}, map[string]string{"FCSANDBOX_WEBHOOK_URL": "http://127.0.0.1:1/x"}, "STRIPE_WEBHOOK_SECRET: not set"},
		{"migrate without database", []string{"underwriter", "migrate"}, nil, "DATABASE_URL: not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, env(tc.env), &out, &out)
			require.Error(t, err)
			require.False(t, errors.Is(err, flag.ErrHelp))
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestMigrateReportsVersions(t *testing.T) {
	url := pgtest.URL(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"underwriter", "migrate", "--status"}, env(map[string]string{"DATABASE_URL": url}), &out, &out))
	require.Regexp(t, `^schema version (\d+), newest (\d+)\n$`, out.String())
	fields := strings.Fields(out.String())
	require.Equal(t, strings.TrimSuffix(fields[2], ","), fields[4], "pgtest databases are fully migrated")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"underwriter", "migrate", "--database-url", url}, env(nil), &out, &out))
	require.Contains(t, out.String(), "schema version")
}
