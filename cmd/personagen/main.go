// Command personagen writes the sample persona ledgers in fcsandbox/personas: one
// ledger file per persona (Stripe financial_connections.account and .transaction
// objects, API version 2023-10-16) and the manifest personas.json.
//
// The output is a pure function of the code: every persona has a fixed seed for its
// own splitmix64 generator (math/rand streams may change between Go releases), and all
// timestamps derive from a fixed balance.as_of. Regenerate with
//
//	go generate ./fcsandbox/
//
// or directly with go run ./cmd/personagen -out fcsandbox/personas from the module
// root. TestGeneratedFilesAreCommitted fails when the committed files differ.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cashflow-underwriting/underwriter/fcsandbox"
)

func main() {
	out := flag.String("out", "fcsandbox/personas", "directory to write the persona files to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "personagen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", n, err)
		}
	}
	return nil
}

// asOf is balance.as_of of every persona (before the sandbox rebases it to "now").
var asOf = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// generate returns file name → content for every persona ledger and the manifest.
func generate() (map[string][]byte, error) {
	files := map[string][]byte{}
	var manifest struct {
		Personas []fcsandbox.Persona `json:"personas"`
	}
	for _, p := range personas {
		g := newGen(p.seed)
		p.build(g)
		data, err := g.render()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", p.name, err)
		}
		file := p.name + ".json"
		files[file] = data
		manifest.Personas = append(manifest.Personas, fcsandbox.Persona{
			Name: p.name, Ledger: file, Story: p.story, ExpectedOutcome: p.expected,
			LoanAmountMinor: p.loan, TermMonths: p.term, Currency: "usd", RefreshOutcome: p.refresh, AfterLoan: p.afterLoan,
		})
	}
	m, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal manifest: %w", err)
	}
	files["personas.json"] = append(m, '\n')
	return files, nil
}

// rng is splitmix64: tiny, fast and fixed forever, so the files never change unless
// the code does.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform int in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a uniform int64 in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + int64(r.next()%uint64(hi-lo+1)) }

// chance returns true with probability p.
func (r *rng) chance(p float64) bool { return float64(r.next()>>11)/(1<<53) < p }

const idChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (r *rng) id(prefix string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[r.intn(len(idChars))]
	}
	return prefix + string(b)
}
