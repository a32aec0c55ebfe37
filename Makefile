# Tollgate: `make run` starts the demo, `make test` installs what the tests need and runs them.
GO          ?= go
BIN         := bin/tollgate
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
GOBIN       := $(CURDIR)/bin
STATICCHECK := $(GOBIN)/staticcheck
export GOTOOLCHAIN := local

.PHONY: all build run test test-deps apt-deps lint unit fuzz-seeds bench bench-quick bench-peers bench-micro pgo clean

all: build

# A static binary: no cgo, so it runs on any Linux of the same architecture.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tollgate

# The gateway on examples/quickstart.yaml plus the demo upstreams.
run: build
	./$(BIN) demo --log-format text

# Everything the tests need, installed by the project itself (CI starts from a fresh machine).
# Debian packages the tests start as real processes: wrk and nginx for the benchmark smoke test.
APT_PKGS := wrk nginx-light
test-deps: apt-deps
	@test -x $(STATICCHECK) || GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	@test -x $(GOBIN)/h2spec || GOBIN=$(GOBIN) $(GO) install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible

# Installs only what is missing; without root it says what to install and goes on (the tests
# that need a missing tool skip with its name).
apt-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "not root: install$$missing with apt-get to run every test"; fi; \
	fi

lint: test-deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Unit, fuzz-seed and end-to-end tests (test/e2e builds and runs the real binary), with -race;
# then the end-to-end suite again on fasthttp, the former HTTP/1.1 engine (--http1-engine
# fasthttp, docs/decisions/0002-http1-engine-revisited.md), which stays selectable and
# tested until it is removed.
test: lint
	$(GO) test -race -count=1 -timeout 20m ./...
	# counted without -race, under which sync.Pool drops items at random
	$(GO) test -count=1 -run DoesNotAllocate ./internal/upstream/
	TOLLGATE_HTTP1_ENGINE=fasthttp $(GO) test -race -count=1 -timeout 20m ./test/e2e/

# The side-by-side benchmark (bench/README.md): Tollgate, the upstream direct, nginx, HAProxy,
# nginx+Lua, Caddy and Traefik; writes bench/results/latest.md and latest.png (~8 min).
bench: bench-peers
	PATH="$(CURDIR)/bin/peers:$$PATH" $(GO) run ./bench/harness -mode full -fasthttp

# Caddy and Traefik, built once into bin/peers (bench/peers/build.sh).
bench-peers:
	@bench/peers/build.sh

# The same in under a minute, for development.
bench-quick:
	PATH="$(CURDIR)/bin/peers:$$PATH" $(GO) run ./bench/harness -mode quick -fasthttp

# The profile behind profile-guided optimisation: go build reads cmd/tollgate/default.pgo by
# itself. This profiles Tollgate under the benchmark's workloads (keep-alive, new connections,
# HTTP/2, the plugin stack) and overwrites it; rebuild and measure before committing the new one
# (docs/architecture.md, "Profile-guided optimisation").
pgo:
	$(GO) run ./bench/harness -mode pgo

# The go test benchmarks beside the hot code.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/router/ ./internal/balancer/ ./internal/plugin/ ./internal/proxy/ ./internal/edge/

clean:
	rm -rf bin
