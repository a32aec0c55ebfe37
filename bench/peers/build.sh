#!/usr/bin/env bash
# Builds the Go peers of the side-by-side benchmark into bin/peers (once; later runs reuse
# them): Caddy with go install, and Traefik v3.6.12, which go install cannot build (its go.mod
# has replace directives, and v3.7 needs modules the module proxy here refuses), as the
# dependency of a throw-away module that copies Traefik's go.mod. Each step that fails says so
# and the harness then skips that peer with its reason.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/bin/peers"
mkdir -p "$out"
export GOTOOLCHAIN=local

if [ ! -x "$out/caddy" ]; then
	echo "building caddy (about 2 minutes) ..."
	GOBIN="$out" go install github.com/caddyserver/caddy/v2/cmd/caddy@v2.11.9 ||
		echo "caddy did not build: the harness will skip it"
fi

if [ ! -x "$out/traefik" ]; then
	echo "building traefik v3.6.12 (about 6 minutes) ..."
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(
		set -e
		go mod download github.com/traefik/traefik/v3@v3.6.12
		src=$(go list -m -f '{{.Dir}}' github.com/traefik/traefik/v3@v3.6.12)
		cp "$src/go.mod" "$src/go.sum" "$tmp/"
		chmod u+w "$tmp/go.mod" "$tmp/go.sum"
		cd "$tmp"
		go mod edit -module tollgate-bench-traefik
		go mod edit -require=github.com/traefik/traefik/v3@v3.6.12
		go build -mod=mod -o "$out/traefik" github.com/traefik/traefik/v3/cmd/traefik
	) || echo "traefik did not build: the harness will skip it"
fi
ls -l "$out"
