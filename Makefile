# The gate every change passes: `make test` is the README's test command and what .ci/run
# runs. Tool versions are pinned; `go run pkg@version` fetches them through the module proxy.
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: test lint unit build dev
test: lint unit

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	go run $(WORKFLOWCHECK) ./workflows/...

unit:
	go test -race -count=1 -timeout 20m ./...

build:
	go build -o bin/underwriter ./cmd/underwriter

dev:
	go run ./cmd/underwriter dev
