// Package workflows holds the Temporal workflows of underwriter and the names they share
// with the API and operators: task queue, signals, queries, search attributes and version
// change ids (names.go). Stages and outcomes are the loan package's.
//
// Underwrite takes one application to its one decision, in this order:
//
//  1. Validate the input before any command: an empty application id, no session and no
//     accounts, or (from change validate-loan-input on) a loan outside loan.Validate's
//     bounds fails the workflow at once with a non-retryable ErrTypeInvalidInput naming
//     the field. An empty currency is loan.DefaultCurrency, as in the API.
//  2. RegisterApplication: the application's row, for a workflow started with the Go
//     client instead of the API.
//  3. Wait for the link (awaiting_link): the account-linked signal, or a poll of the
//     session every LinkPollInterval; after the link timeout the outcome is expired.
//  4. Refresh (refreshing, refresh.go): request a transactions and balance refresh per
//     account and wait for it, for a refresh Stripe does not allow yet, and for an
//     inactive account's reactivation, each within its bound. Data that could not be
//     refreshed in time is marked stale for the policy (a refer, never a decline).
//  5. Sync (syncing) every account's transactions and balance into Postgres, then freeze
//     an immutable snapshot (snapshot).
//  6. Decide (scoring, decide.go): from change one-decision-writer on, the Decide activity
//     scores the snapshot and writes the decision; an expired application is written by
//     the same activity (recording). Runs started before keep Score then RecordDecision.
//  7. Publish the outcome and score in the search attributes and the result (decided).
//
// Every wait is the one helper wait (wait.go): a selector over the signal channels and a
// timer, so a lost webhook delays a step by a poll interval, not forever.
//
// Code here is deterministic: no wall clock, randomness, goroutines, map ranging or I/O;
// logs go through workflow.GetLogger, which stays silent during replay. Data never
// travels through workflow history: activities write transactions and the feature vector
// to Postgres and return ids, counts, content hashes and the verdict. A change to the
// command sequence goes behind workflow.GetVersion with a change id in names.go, and the
// histories recorded per shipped version in testdata/histories must still replay
// (replay_test.go).
package workflows
