#!/usr/bin/env bash
# bench-editor: starts the release server against its simulator on a free port, runs the
# editor benchmark in Debian's Chromium (end2end/bench/editor.mjs), stops the server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tools/bench/common.sh
port=$(free_port)
data=$(mktemp -d)
GEMFLASH_ADDR="127.0.0.1:$port" GEMFLASH_DATA_DIR="$data" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_ENV=PROD GEMINI_API_KEY= GEMFLASH_LOG=warn target/release/gemflash &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
wait_ready "$port"
echo "machine: $(machine)"
cd end2end && node bench/editor.mjs "http://127.0.0.1:$port"
