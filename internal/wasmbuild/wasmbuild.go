// Package wasmbuild builds a contract package into a WebAssembly module with
// the installed Go toolchain: what `accord contract build` and the tests
// that install contracts run.
package wasmbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// ErrNoGo means no go command is on PATH.
var ErrNoGo = errors.New("no go toolchain on PATH; install Go 1.24 or later to build contracts")

// Build compiles the main package pkg (a directory or import path) for
// GOOS=wasip1 GOARCH=wasm as a reactor (-buildmode=c-shared) into out.
func Build(pkg, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoGo, err)
	}
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building contract %s: %w\n%s", pkg, err, msg)
	}
	return nil
}
