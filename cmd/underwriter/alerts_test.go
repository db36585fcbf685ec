package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cashflow-underwriting/underwriter/alerthook"
)

// TestAlertsSetWebhook: the command stores the lender's URL and prints the secret its
// receiver verifies with, the one the worker derives from the same master key; --remove
// clears the URL; an unknown lender is named.
func TestAlertsSetWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, st, _ := analystDB(t)
	require.NoError(t, st.EnsureLender(ctx, "acme", ""))
	key := alerthook.GenerateSigningKey()
	e := map[string]string{"DATABASE_URL": dbURL, "UNDERWRITER_ALERT_SIGNING_KEY": key}

	out, err := runIn(t, e, "alerts", "set-webhook", "--lender", "acme", "--url", "https://acme.example/alerts")
	require.NoError(t, err)
	master, err := alerthook.ParseSigningKey(key)
	require.NoError(t, err)
	secret := alerthook.LenderSecret(master, "acme")
	require.Contains(t, out, "secret:  "+secret+"\n")
	require.NotContains(t, out, key, "the master key is never printed")
	url, err := st.LenderAlertWebhook(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "https://acme.example/alerts", url)

	_, err = runIn(t, e, "alerts", "set-webhook", "--lender", "zeta", "--url", "https://zeta.example/alerts")
	require.EqualError(t, err, "--lender: no lender zeta (`underwriter keys create --lender zeta` creates it)")

	out, err = runIn(t, map[string]string{"DATABASE_URL": dbURL}, "alerts", "set-webhook", "--lender", "acme", "--remove")
	require.NoError(t, err, "removing needs no signing key")
	require.Contains(t, out, "lender acme receives no alert webhooks")
	url, err = st.LenderAlertWebhook(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, url)

	out, err = runIn(t, nil, "alerts", "generate-key")
	require.NoError(t, err)
	_, err = alerthook.ParseSigningKey(strings.TrimSpace(out))
	require.NoError(t, err, "generate-key prints a key the worker accepts")
}
