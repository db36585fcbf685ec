package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// envRequestHashKey keys the HMAC of request_hash (api.Server.RequestHashKeys).
var envRequestHashKey = envVar{"UNDERWRITER_REQUEST_HASH_KEY",
	"secret of 32 characters or more keying the HMAC that identifies a request's content (secret; comma-separated during rotation, the first signs)"}

// minRequestHashKey is the shortest request-hash key accepted: 32 characters, e.g. the
// output of `openssl rand -hex 16`, hold enough randomness that the HMAC cannot be
// recomputed from guessed applicant details.
const minRequestHashKey = 32

// requestHashKeys reads UNDERWRITER_REQUEST_HASH_KEY, refusing a missing or short key
// with an error naming the variable (never its value).
func requestHashKeys(getenv func(string) string) ([][]byte, error) {
	list := splitList(getenv(envRequestHashKey.name))
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: not set (a secret of %d characters or more, e.g. from `openssl rand -hex 32`)",
			envRequestHashKey.name, minRequestHashKey)
	}
	keys := make([][]byte, len(list))
	for i, k := range list {
		if len(k) < minRequestHashKey {
			return nil, fmt.Errorf("%s: key %d of %d is %d characters; use %d or more", envRequestHashKey.name, i+1, len(list), len(k), minRequestHashKey)
		}
		keys[i] = []byte(k)
	}
	return keys, nil
}

// openStore connects to Postgres for a command that only needs the store, refusing an
// outdated schema.
func openStore(ctx context.Context, dbURL string) (*store.Store, func(), error) {
	if dbURL == "" {
		return nil, nil, fmt.Errorf("%s: not set", envDatabaseURL.name)
	}
	pool, err := wiring.OpenPostgres(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	st := store.New(pool)
	if err := st.CheckSchema(ctx); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return st, pool.Close, nil
}

func keysCreateCommand() command {
	return command{
		name: "keys create",
		summary: "Create an API key for a lender (creating the lender if new) and print it once: " +
			"only its hash is stored. A lender may hold several keys, to rotate them.",
		env: []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			lender := fs.String("lender", "", "lender id: 1-32 lowercase letters, digits or '-' (required)")
			name := fs.String("name", "", "the lender's display name, when the lender is new or renamed")
			label := fs.String("label", "", "what the key is for, e.g. \"prod 2026-12\"; shown by keys list")
			return func(ctx context.Context, stdout, _ io.Writer) error {
				if *lender == "" {
					return errors.New("--lender: not set")
				}
				if err := checkLenderFlag(*lender, false); err != nil {
					return err
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				secret, id, err := createKey(ctx, st, *lender, *name, *label)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "lender:  %s\nkey id:  %s\napi key: %s\n\n", *lender, id, secret)
				fmt.Fprintln(stdout, "The key is shown this once; underwriter keeps only its hash. Send it as `Authorization: Bearer <api key>`.")
				return nil
			}
		},
	}
}

// createKey makes a key for the lender, creating the lender if new, and returns the key
// and its public id.
func createKey(ctx context.Context, st *store.Store, lender, name, label string) (secret, id string, err error) {
	k, err := api.NewKey()
	if err != nil {
		return "", "", err
	}
	if err := st.EnsureLender(ctx, lender, name); err != nil {
		return "", "", err
	}
	if err := st.InsertAPIKey(ctx, lender, k.ID, label, k.Hash); err != nil {
		return "", "", err
	}
	return k.Secret, k.ID, nil
}

func keysListCommand() command {
	return command{
		name:    "keys list",
		summary: "List API keys (ids, lenders, labels, creation, last use, revocation); never the keys themselves.",
		env:     []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			lender := fs.String("lender", "", "only this lender's keys")
			return func(ctx context.Context, stdout, _ io.Writer) error {
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				keys, err := st.ListAPIKeys(ctx, *lender)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "KEY ID\tLENDER\tLABEL\tCREATED\tLAST USED\tREVOKED")
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.LenderID, orDash(k.Label),
						k.CreatedAt.UTC().Format(time.RFC3339), timeOrDash(k.LastUsedAt), timeOrDash(k.RevokedAt))
				}
				return tw.Flush()
			}
		},
	}
}

func keysRevokeCommand() command {
	return command{
		name:    "keys revoke",
		summary: "Revoke an API key by its id: the next request with it is refused (401).",
		env:     []envVar{envDatabaseURL},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			dbURL := fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL")
			id := fs.String("id", "", "the key id, as keys list shows it (required)")
			return func(ctx context.Context, stdout, _ io.Writer) error {
				if *id == "" {
					return errors.New("--id: not set (a key id from `underwriter keys list`)")
				}
				st, closeDB, err := openStore(ctx, *dbURL)
				if err != nil {
					return err
				}
				defer closeDB()
				k, err := st.RevokeAPIKey(ctx, *id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--id: no key %s", *id)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "revoked key %s of lender %s at %s\n", k.ID, k.LenderID, k.RevokedAt.UTC().Format(time.RFC3339))
				return nil
			}
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
