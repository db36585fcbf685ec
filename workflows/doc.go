// Package workflows holds the Temporal workflows of underwriter and the names they share
// with the API and operators: task queue, signals, queries and search attributes.
//
// Code here is deterministic: no wall clock, randomness, goroutines, map ranging or I/O.
// Data never travels through workflow history: activities write transactions to Postgres
// and return ids, counts and content hashes.
package workflows
