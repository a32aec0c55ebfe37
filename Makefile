# Tollgate: `make run` starts the demo, `make test` installs what the tests need and runs them.
GO          ?= go
BIN         := bin/tollgate
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
GOBIN       := $(CURDIR)/bin
STATICCHECK := $(GOBIN)/staticcheck
export GOTOOLCHAIN := local

.PHONY: all build run test test-deps lint unit fuzz-seeds bench clean

all: build

# A static binary: no cgo, so it runs on any Linux of the same architecture.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tollgate

# The gateway on examples/quickstart.yaml plus the demo upstreams.
run: build
	./$(BIN) demo --log-format text

# Everything the tests need, installed by the project itself (CI starts from a fresh machine).
test-deps:
	@test -x $(STATICCHECK) || GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: test-deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Unit, fuzz-seed and end-to-end tests (test/e2e builds and runs the real binary), with -race.
test: lint
	$(GO) test -race -count=1 -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/router/ ./internal/balancer/ ./internal/proxy/

clean:
	rm -rf bin
