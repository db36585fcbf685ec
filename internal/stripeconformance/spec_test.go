package stripeconformance

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// specPath returns embedded/openapi/spec3.json of the stripe-mock module,
// downloading the module into the module cache when it is not there yet
// (go install of stripe-mock already puts it there).
func specPath() (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/stripe/stripe-mock@"+StripeMockVersion).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download stripe-mock %s: %w", StripeMockVersion, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("decode go mod download output: %w", err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download stripe-mock %s: %s", StripeMockVersion, m.Error)
	}
	return filepath.Join(m.Dir, "embedded", "openapi", "spec3.json"), nil
}

// loadSpec loads the 2023-10-16 spec once per test binary.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	specOnce.Do(func() {
		var p string
		if p, specErr = specPath(); specErr != nil {
			return
		}
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromFile(p)
		if specErr == nil && specDoc.Info.Version != "2023-10-16" {
			specErr = fmt.Errorf("spec %s is version %s, want 2023-10-16", p, specDoc.Info.Version)
		}
	})
	require.NoError(t, specErr, "load the stripe-mock spec (install: %s)", installHint)
	return specDoc
}

// operation finds the spec operation for method and a concrete path.
func operation(doc *openapi3.T, method, path string) (*openapi3.Operation, string, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for tmpl, item := range doc.Paths.Map() {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i := range ts {
			if !strings.HasPrefix(ts[i], "{") && ts[i] != segs[i] {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if op := item.GetOperation(strings.ToUpper(method)); op != nil {
			return op, tmpl, nil
		}
	}
	return nil, "", fmt.Errorf("%s %s: no operation in the spec", method, path)
}

// validateResponse checks body against the response schema the spec gives
// for the operation and status ("200", else "default", the error object).
func validateResponse(doc *openapi3.T, method, path string, status int, body []byte) error {
	op, tmpl, err := operation(doc, method, path)
	if err != nil {
		return err
	}
	ref := op.Responses.Status(status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("%s %s: no response %d in the spec", method, tmpl, status)
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return fmt.Errorf("%s %s: response %d has no JSON schema", method, tmpl, status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s %s: decode body: %w", method, tmpl, err)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s %s %s: %w", method, tmpl, strconv.Itoa(status), err)
	}
	return nil
}
