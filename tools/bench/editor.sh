#!/usr/bin/env bash
# bench-editor: starts the release server against its simulator on a free port, runs the
# editor benchmark in Debian's Chromium (end2end/bench/editor.mjs), stops the server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
GEMFLASH_ADDR="127.0.0.1:$port" GEMFLASH_DATA_DIR="$data" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_ENV=PROD GEMINI_API_KEY= GEMFLASH_LOG=warn target/release/gemflash &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); commit $(git rev-parse --short HEAD)"
cd end2end && node bench/editor.mjs "http://127.0.0.1:$port"
