package wiring

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigsNeverLogSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("config",
		"stripe", StripeConfig{SecretKey: "sk_test_51Habcdefsecretpart", APIBase: "http://127.0.0.1:12110"},
		"temporal", TemporalConfig{Address: "x:7233", Namespace: "ns", APIKey: "tmprl-secret-key"})
	out := buf.String()
	require.NotContains(t, out, "secretpart")
	require.NotContains(t, out, "tmprl-secret-key")
	require.Contains(t, out, `"secret_key":"sk_test_…"`, "the mode stays visible")
	require.Contains(t, out, `"api_key_set":true`)
	require.Equal(t, "", redactKey(""))
	require.Equal(t, "…", redactKey("nounderscore"))
}
