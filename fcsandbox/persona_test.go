package fcsandbox

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadPersonas(t *testing.T) {
	t.Parallel()
	ps, err := LoadPersonas(os.DirFS(tinyDir))
	require.NoError(t, err)
	require.Len(t, ps, 3)
	require.Equal(t, Persona{Name: "refresh_fails", Ledger: "tiny.json", Story: "The bank connection breaks after linking.",
		ExpectedOutcome: "refer", LoanAmountMinor: 100000, TermMonths: 6, Currency: "usd", RefreshOutcome: "failed"}, ps[2])

	tests := []struct {
		name     string
		manifest string
		ledger   string
		wantErr  string
	}{
		{name: "no manifest", wantErr: "read persona manifest"},
		{name: "bad refresh outcome", manifest: `{"personas":[{"name":"a","ledger":"a.json","refresh_outcome":"maybe"}]}`,
			ledger: `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[]}]}`, wantErr: "refresh_outcome"},
		{name: "bad expected outcome", manifest: `{"personas":[{"name":"a","ledger":"a.json","expected_outcome":"yes"}]}`,
			ledger: `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[]}]}`, wantErr: "expected_outcome"},
		{name: "missing ledger", manifest: `{"personas":[{"name":"a","ledger":"b.json"}]}`, wantErr: "read ledger"},
		{name: "escaping ledger path", manifest: `{"personas":[{"name":"a","ledger":"../a.json"}]}`, wantErr: "relative file name"},
		{name: "duplicate", manifest: `{"personas":[{"name":"a","ledger":"a.json"},{"name":"a","ledger":"a.json"}]}`,
			ledger: `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[]}]}`, wantErr: "duplicate"},
		{name: "bad transaction status", manifest: `{"personas":[{"name":"a","ledger":"a.json"}]}`,
			ledger: `{"accounts":[{"account":{"id":"fca_1","category":"cash"},"transactions":[{"id":"t","account":"fca_1","amount":1,"currency":"usd","status":"done","transacted_at":1}]}]}`, wantErr: "status"},
		{name: "empty ledger", manifest: `{"personas":[{"name":"a","ledger":"a.json"}]}`, ledger: `{"accounts":[]}`, wantErr: "accounts: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.manifest != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestFile), []byte(tc.manifest), 0o600))
			}
			if tc.ledger != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "a.json"), []byte(tc.ledger), 0o600))
			}
			_, err := LoadPersonas(os.DirFS(dir))
			require.ErrorContains(t, err, tc.wantErr)
			_, err = New(Config{PersonaDir: dir})
			require.Error(t, err)
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		EnvAPIKey: "sk_test_k", EnvWebhookSecret: "whsec_s", EnvWebhookURL: "http://127.0.0.1:1/hook",
		EnvRefreshDelay: "250ms", EnvRefreshCooldown: "30", EnvPostPending: "true",
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "sk_test_k", cfg.APIKey)
	require.Equal(t, "whsec_s", cfg.WebhookSecret)
	require.Equal(t, "http://127.0.0.1:1/hook", cfg.WebhookURL)
	require.Equal(t, 250*time.Millisecond, cfg.RefreshDelay)
	require.Equal(t, 30*time.Second, cfg.RefreshCooldown)
	require.Empty(t, cfg.PersonaDir)
	ps, err := LoadPersonas(cfg.Personas)
	require.NoError(t, err, "without FCSANDBOX_PERSONAS the built-in samples are served")
	require.Len(t, ps, 7)
	require.True(t, cfg.PostPendingOnRefresh)

	env[EnvPersonaDir] = tinyDir
	cfg, err = ConfigFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Nil(t, cfg.Personas)
	require.Equal(t, tinyDir, cfg.PersonaDir)

	env[EnvRefreshDelay] = "soon"
	_, err = ConfigFromEnv(func(k string) string { return env[k] })
	require.ErrorContains(t, err, EnvRefreshDelay)
}

func TestConfigLogValueRedacts(t *testing.T) {
	t.Parallel()
	v := Config{APIKey: "sk_test_secret", WebhookSecret: "whsec_secret"}.LogValue().String()
	require.NotContains(t, v, "sk_test_secret")
	require.NotContains(t, v, "whsec_secret")
}

func TestConfigFromEnvRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 0, false}, {"10", 10, false}, {"off", -1, false}, {"-1", -1, false},
		{"0", 0, true}, {"fast", 0, true},
	}
	for _, tc := range tests {
		cfg, err := ConfigFromEnv(func(k string) string {
			if k == EnvRateLimit {
				return tc.in
			}
			return ""
		})
		if tc.wantErr {
			require.ErrorContains(t, err, EnvRateLimit, "input %q", tc.in)
			continue
		}
		require.NoError(t, err, "input %q", tc.in)
		require.Equal(t, tc.want, cfg.RateLimit, "input %q", tc.in)
	}
	require.Equal(t, DefaultRateLimit, Config{}.withDefaults().RateLimit)
}
