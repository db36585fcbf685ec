package archtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/cashflow-underwriting/underwriter/"

// update rewrites the import graph in docs/architecture.md from the code.
var update = flag.Bool("update", false, "rewrite the import graph in docs/architecture.md")

// floors ranks the product packages: a package imports only packages on lower floors.
// The harness (internal/…) stands above them all and below cmd/…; packages inside the
// harness may import each other (Go forbids cycles).
var floors = map[string]int{
	"ledger": 0, "loan": 0, "migrations": 0,
	"alerthook": 1, "ledger/csv": 1, "scoring": 1, "store": 1,
	"activities": 2, "fcsandbox": 2, "report": 2,
	"workflows": 3,
	"api":       4,
}

const (
	harnessFloor = 5
	cmdFloor     = 6
)

func floor(pkg string) (int, bool) {
	switch {
	case strings.HasPrefix(pkg, "cmd/"):
		return cmdFloor, true
	case strings.HasPrefix(pkg, "internal/"):
		return harnessFloor, true
	}
	f, ok := floors[pkg]
	return f, ok
}

// graph returns package → the module's packages it imports (non-test files only).
func graph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "../../...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	g := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		require.NoError(t, dec.Decode(&p))
		name := strings.TrimPrefix(p.ImportPath, module)
		g[name] = []string{}
		for _, imp := range p.Imports {
			if rest, ok := strings.CutPrefix(imp, module); ok {
				g[name] = append(g[name], rest)
			}
		}
	}
	return g
}

func TestImportsRunOneWay(t *testing.T) {
	g := graph(t)
	require.Contains(t, g, "scoring", "go list found the module's packages")
	for pkg, imports := range g {
		from, ok := floor(pkg)
		require.True(t, ok, "package %s has no floor: add it to floors in %s and to docs/architecture.md", pkg, "internal/archtest")
		for _, imp := range imports {
			to, ok := floor(imp)
			require.True(t, ok, "package %s has no floor", imp)
			if from == harnessFloor && to == harnessFloor {
				continue
			}
			require.Greater(t, from, to, "%s imports %s: imports must run down the house (docs/architecture.md)", pkg, imp)
		}
	}
}

// graphText renders the graph as the lines docs/architecture.md shows, one package a
// line, from the top floor down.
func graphText(g map[string][]string) string {
	pkgs := make([]string, 0, len(g))
	for p := range g {
		pkgs = append(pkgs, p)
	}
	slices.SortFunc(pkgs, func(a, b string) int {
		fa, _ := floor(a)
		fb, _ := floor(b)
		if fa != fb {
			return fb - fa
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for _, p := range pkgs {
		imps := slices.Clone(g[p])
		slices.Sort(imps)
		if len(imps) == 0 {
			fmt.Fprintf(&b, "%-28s (imports nothing of the project)\n", p)
			continue
		}
		fmt.Fprintf(&b, "%-28s → %s\n", p, strings.Join(imps, ", "))
	}
	return b.String()
}

const (
	docFile    = "../../docs/architecture.md"
	beginGraph = "<!-- import graph: begin (go test ./internal/archtest -update) -->\n```\n"
	endGraph   = "```\n<!-- import graph: end -->"
)

func TestArchitectureDocShowsTheGraph(t *testing.T) {
	doc, err := os.ReadFile(docFile)
	require.NoError(t, err)
	s := string(doc)
	i, j := strings.Index(s, beginGraph), strings.Index(s, endGraph)
	require.True(t, i >= 0 && j > i, "docs/architecture.md lacks the import graph markers")
	want := graphText(graph(t))
	if *update {
		s = s[:i+len(beginGraph)] + want + s[j:]
		require.NoError(t, os.WriteFile(docFile, []byte(s), 0o644))
		return
	}
	require.Equal(t, want, s[i+len(beginGraph):j], "docs/architecture.md's import graph is out of date: go test ./internal/archtest -update")
}
