# The gate every change passes: `make test` is the README's test command and what .ci/run
# runs. Tool versions are pinned; `go run pkg@version` fetches them through the module proxy.
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
STRIPEMOCK    := github.com/stripe/stripe-mock@v0.183.0
GOBIN         := $(shell go env GOPATH)/bin
export PATH   := $(PATH):$(GOBIN)

.PHONY: test lint unit model build dev stripe-mock
test: lint unit model

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
model:
	go test -count=1 -run 'TestShippedModelTable|TestTrainedModelTable|TestIncomeV3' ./internal/population/

# The Stripe conformance tests start Stripe's official mock (2023-10-16 spec) themselves.
stripe-mock:
	@command -v stripe-mock >/dev/null 2>&1 || go install $(STRIPEMOCK)

build:
	go build -o bin/underwriter ./cmd/underwriter

dev:
	go run ./cmd/underwriter dev
