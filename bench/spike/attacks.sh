#!/usr/bin/env bash
# Raw malformed-request check of the spike front ends
# (docs/decisions/0001-http-engine.md). Starts the three Go candidates and
# nginx (reference) in front of rawattack's recording upstream, sends each
# raw case once per front end and prints a Markdown table. ~1 min, loopback only.
#
#   bash bench/spike/attacks.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/spike-attacks.XXXXXX)
BIN=$WORK/bin
cd "$ROOT"
# shellcheck source=bench/spike/lib.sh
source bench/spike/lib.sh
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_tools
build_all
REC=$(free_port)
P_nginx=$(free_port)
P_nethttp=$(free_port)
P_fasthttp=$(free_port)
P_codec=$(free_port)
nginx_conf "$WORK/nginx" "$P_nginx" "$REC"
start nginx 0-1 nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
for t in nethttp fasthttp codec; do
	port_var=P_$t
	start "$t" 0-1 "$BIN/$t" -port "${!port_var}" -upstream "127.0.0.1:$REC"
done
for p in "$P_nginx" "$P_nethttp" "$P_fasthttp" "$P_codec"; do wait_port "$p"; done
echo "date: $(date -u +%F); cell = what the client got back; what reached the upstream"
timeout 120 "$BIN/rawattack" -upstream "127.0.0.1:$REC" \
	-target "net/http=127.0.0.1:$P_nethttp" -target "fasthttp=127.0.0.1:$P_fasthttp" \
	-target "own codec=127.0.0.1:$P_codec" -target "nginx (ref)=127.0.0.1:$P_nginx"
