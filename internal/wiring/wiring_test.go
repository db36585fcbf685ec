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

// TestStripeLoggerKeepsOnlyFixedText: stripe-go passes Stripe's error body, which may echo
// an applicant's details, as an argument; the bridge logs the message's fixed text only.
func TestStripeLoggerKeepsOnlyFixedText(t *testing.T) {
	var buf bytes.Buffer
	l := stripeLogger{slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	body := `{"error":{"message":"Invalid email: ada@example.com","param":"email"}}`
	l.Errorf("Request error from Stripe (status %v): %v", 400, body)
	l.Warnf("Initiating retry %v for request %v %v%v after sleeping %v", 1, "POST", "/v1/customers", "?email=ada@example.com", "1s")
	out := buf.String()
	require.Contains(t, out, "Request error from Stripe")
	require.Contains(t, out, "Initiating retry")
	require.NotContains(t, out, "ada@example.com")
	require.NotContains(t, out, `"level":"ERROR"`, "a Stripe error the activities handle is not an error of the process")
}
