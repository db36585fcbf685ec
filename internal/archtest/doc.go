// Package archtest holds the test that keeps the project's import graph one way
// (docs/architecture.md): cmd → internal (harness) → api, workflows → activities →
// scoring, store → ledger, loan. It has no code of its own.
package archtest
