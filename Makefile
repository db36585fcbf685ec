# The gate every change passes: `make test` is the README's test command and what .ci/run
# runs. Tool versions are pinned; `go run pkg@version` fetches them through the module proxy.
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
STRIPEMOCK    := github.com/stripe/stripe-mock@v0.183.0
GOBIN         := $(shell go env GOPATH)/bin
export PATH   := $(PATH):$(GOBIN)

.PHONY: test lint unit model fuzz chaos browser build dev stripe-mock
test: lint unit model fuzz chaos browser

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	go run $(WORKFLOWCHECK) ./workflows/...

unit: stripe-mock
	go test -race -count=1 -timeout 20m ./...

# The model's tables at their CI sizes, once and without the race detector, which
# allows only smaller populations: the shipped model on 2,000 fresh applicants against
# issue 8's goals, and the trainer on 1,500. The issue's full training size is
# `go test ./internal/population/ -run TestTrainedModelTable -v -population.n=2000`.
# Then every ledger of issue 12's equivalence corpus (1,123 ledgers, Berka's included):
# the fast parse equals encoding/json's, and every decision equals the golden one (under
# -race, `unit` checks every 20th).
model:
	go test -count=1 -run 'TestShippedModelTable|TestTrainedModelTable|TestIncomeV3' ./internal/population/
	go test -count=1 -run 'TestDecisionsUnchanged|TestParseMatchesEncodingJSON' ./internal/bench/

# Each fuzz target for a few seconds (go test accepts one -fuzz per run), from its seed
# corpus in the package's testdata/fuzz/<Name>/: a smoke test that the targets still build,
# that the corpus passes and that a few seconds of mutation find nothing, kept short
# because CI shares two cores: about 30 s with a warm cache; a cold one first builds every
# package with fuzzing instrumentation (about 100 s more). Fuzz for real locally with a
# longer time, e.g. `make fuzz FUZZTIME=10m`; a failing input is written to
# testdata/fuzz/<Name>/ and replays in every `go test` once committed.
FUZZTIME ?= 3s
FUZZ_TARGETS := ./ledger/:FuzzParse ./ledger/:FuzzScanFile ./ledger/csv/:FuzzReadCSV ./ledger/csv/:FuzzBerka \
	./api/:FuzzCreateApplicationBody ./api/:FuzzWebhook ./scoring/:FuzzComputeFeatures
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "go test -run '^$$' -fuzz '^$${t#*:}$$' -fuzztime $(FUZZTIME) $${t%%:*}"; \
	  go test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

# The chaos tests (build tag chaos, so `unit` does not compile them): the multi-process
# cluster's kills and restarts, TestChaosSmall, issue 9's chaos run at CI size (12
# applications, every fault, a worker and an API kill, a Postgres and a sandbox restart),
# and TestScaleOutOnATemporalCluster (`underwriter temporal` on Postgres, two workers and
# the API, 40 applications, a worker killed halfway; about 2.7 minutes, most of it the
# killed worker's activities waiting out their 2-minute timeout: README "Scale-out").
# Without the race detector: they run the worker and API as separate processes, built
# with `go build`. About 4 minutes warm, most of it the runs (docs/chaos.md); a cold cache
# adds the build of the binary. The full runs are `underwriter chaos --applications 200`
# and `go test -tags chaos -run TestScaleOut ./internal/cluster/ -args -scaleout.n=200`.
# One package at a time (-p 1): two clusters at once on two cores would slow both.
chaos:
	go vet -tags chaos ./internal/chaos/ ./internal/cluster/
	go run $(STATICCHECK) -tags chaos ./internal/chaos/ ./internal/cluster/
	go test -tags chaos -p 1 -count=1 -timeout 20m ./internal/chaos/ ./internal/cluster/

# The browser tests (build tag browser, so `unit` does not compile them): headless Chromium
# (Debian's chromium; the tests fail, never skip, without it) tours the embedded Web UI of a
# dev stack after the sample applications: the declined list, the user metadata, payloads
# decoded through the codec endpoint, the decision card; and clicks through the dev console
# (a persona linked and approved, an uploaded CSV decided, a malformed one refused by line,
# no client_secret in any URL the page loaded). Without the race detector: the
# browser and the UI dominate. About 45 s warm. `make browser BROWSERFLAGS=-screenshots=$$PWD/docs/img`
# refreshes the README's screenshots.
BROWSERFLAGS ?=
browser:
	go vet -tags browser ./internal/browser/
	go run $(STATICCHECK) -tags browser ./internal/browser/
	go test -tags browser -count=1 -timeout 15m ./internal/browser/ $(if $(BROWSERFLAGS),-args $(BROWSERFLAGS))

# The Stripe conformance tests start Stripe's official mock (2023-10-16 spec) themselves.
stripe-mock:
	@command -v stripe-mock >/dev/null 2>&1 || go install $(STRIPEMOCK)

build:
	go build -o bin/underwriter ./cmd/underwriter

dev:
	go run ./cmd/underwriter dev
