// Package browser holds the browser tests (build tag browser): headless Chromium, Debian's
// chromium package, tours the embedded Temporal Web UI of a dev stack as an operator does.
// `make browser` runs them; they are not part of `go test ./...`, which runs under the race
// detector, and they fail rather than skip when chromium is missing.
package browser
