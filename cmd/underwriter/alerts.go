package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cashflow-underwriting/underwriter/alerthook"
	"github.com/cashflow-underwriting/underwriter/store"
)

// The alert webhooks' settings (README "Loans and alerts").
var (
	envAlertSigningKey = envVar{alerthook.EnvSigningKey,
		"master key of the lenders' alert webhook signatures, 64 hex digits (secret; `underwriter alerts generate-key`); each lender's secret is derived from it"}
	envAlertWebhookURL = envVar{"UNDERWRITER_ALERT_WEBHOOK_URL",
		"where the development lender (dev) receives its loans' alerts, set at start (https, or http to a loopback host)"}
)

// alertSigningKey reads UNDERWRITER_ALERT_SIGNING_KEY, naming the variable (never the
// value) when it is malformed, or missing and required.
func alertSigningKey(getenv func(string) string, required bool) ([]byte, error) {
	v := getenv(envAlertSigningKey.name)
	if strings.TrimSpace(v) == "" && !required {
		return nil, nil
	}
	k, err := alerthook.ParseSigningKey(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envAlertSigningKey.name, err)
	}
	return k, nil
}

// alertWebhookURL reads UNDERWRITER_ALERT_WEBHOOK_URL ("" when unset), refusing a URL
// alerthook.CheckURL refuses.
func alertWebhookURL(getenv func(string) string) (string, error) {
	u := strings.TrimSpace(getenv(envAlertWebhookURL.name))
	if u == "" {
		return "", nil
	}
	if err := alerthook.CheckURL(u); err != nil {
		return "", fmt.Errorf("%s: %w", envAlertWebhookURL.name, err)
	}
	return u, nil
}

// setDevAlertWebhook stores url as the development lender's alert webhook; "" leaves the
// stored one alone (the variable is unset).
func setDevAlertWebhook(ctx context.Context, st *store.Store, url string) error {
	if url == "" {
		return nil
	}
	if err := st.SetLenderAlertWebhook(ctx, store.DevLender, url); err != nil {
		return fmt.Errorf("%s: %w", envAlertWebhookURL.name, err)
	}
	return nil
}

func alertsGenerateKeyCommand() command {
	return command{
		name: "alerts generate-key",
		summary: "Print a new master key for the lenders' alert webhook signatures, to set as " + envAlertSigningKey.name +
			" on every worker. Changing it changes every lender's secret.",
		flags: func(*flag.FlagSet, func(string) string) func(context.Context, io.Writer, io.Writer) error {
			return func(_ context.Context, stdout, _ io.Writer) error {
				fmt.Fprintln(stdout, alerthook.GenerateSigningKey())
				return nil
			}
		},
	}
}

func alertsSetWebhookCommand() command {
	return command{
		name: "alerts set-webhook",
		summary: "Set where a lender receives its booked loans' early-warning alerts, and print the secret its receiver " +
			"verifies their signatures with (derived from " + envAlertSigningKey.name + "; nothing secret is stored).",
		env: []envVar{envDatabaseURL, envAlertSigningKey},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			lender := fs.String("lender", "", "lender id (required; `underwriter keys create` creates lenders)")
			url := fs.String("url", "", "the lender's alert endpoint: https, or http to a loopback host (required unless --remove)")
			remove := fs.Bool("remove", false, "remove the lender's URL: alerts are then stored and listed, not sent")
			return func(ctx context.Context, stdout, _ io.Writer) error {
				if *lender == "" {
					return errors.New("--lender: not set")
				}
				if err := checkLenderFlag(*lender, false); err != nil {
					return err
				}
				switch {
				case *remove && *url != "":
					return errors.New("--url: set together with --remove; give one")
				case !*remove && *url == "":
					return errors.New("--url: not set (the lender's alert endpoint, e.g. https://lender.example/underwriter/alerts), or --remove")
				case !*remove:
					if err := alerthook.CheckURL(*url); err != nil {
						return fmt.Errorf("--url: %w", err)
					}
				}
				var key []byte
				if !*remove {
					var err error
					if key, err = alertSigningKey(getenv, true); err != nil {
						return err
					}
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				err = st.SetLenderAlertWebhook(ctx, *lender, *url)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--lender: no lender %s (`underwriter keys create --lender %s` creates it)", *lender, *lender)
				}
				if err != nil {
					return err
				}
				if *remove {
					fmt.Fprintf(stdout, "lender %s receives no alert webhooks; GET /v1/loans/{id}/alerts lists its alerts\n", *lender)
					return nil
				}
				fmt.Fprintf(stdout, "lender:  %s\nurl:     %s\nsecret:  %s\n\n", *lender, *url, alerthook.LenderSecret(key, *lender))
				fmt.Fprintf(stdout, "Give the secret to the lender's receiver: it checks each alert's %s header with it "+
					"(README \"Loans and alerts\"). It is derived from %s and shown again by running this command again.\n",
					alerthook.SignatureHeader, envAlertSigningKey.name)
				return nil
			}
		},
	}
}
