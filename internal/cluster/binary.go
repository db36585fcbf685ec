package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BinaryName is the name of the underwriter binary.
const BinaryName = "underwriter"

// mainPackage is the underwriter command's import path, which Build builds.
const mainPackage = "github.com/cashflow-underwriting/underwriter/cmd/underwriter"

// Binary returns an underwriter binary to run the worker and API processes: the running
// executable when it is underwriter (the chaos command), otherwise one that Build writes
// into dir (a test binary cannot serve as `underwriter worker`).
func Binary(ctx context.Context, dir string) (string, error) {
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == BinaryName {
		return exe, nil
	}
	return Build(ctx, dir)
}

// Build compiles the underwriter command into dir with `go build` and returns the
// binary's path. It needs the go tool and a working directory inside the module, as
// tests and `go run` have; with a warm build cache it takes the time of one link.
func Build(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, BinaryName)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, mainPackage)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s (run from inside the module, or start the chaos run from the underwriter binary): %w: %s",
			mainPackage, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
