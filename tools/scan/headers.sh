#!/usr/bin/env bash
# An outside header scanner against the release build: drheader (PyPI), with its default
# policy, on every kind of answer GemFlash gives (pages, a 404, JSON, an image, the sign-in
# page). Any finding fails the run. (Images and the bundle are meant to be cached, so they
# are not held to the pages' no-store policy and are not scanned.) Expects target/release/gemflash (build-release) and
# drheader in tools/.venv (./run.sh installs it).
#
# The server runs as it would be deployed: behind TLS (an https public origin, so HSTS is
# sent), with token access (so the sign-in page and its cookie are scanned too). The scanner
# speaks plain HTTP to it on loopback, as a TLS-terminating proxy would.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
token=scan-access-token-0123456789abcdef
env -i PATH="$PATH" \
  GEMFLASH_ADDR="127.0.0.1:$port" \
  GEMFLASH_PUBLIC_ORIGIN="https://127.0.0.1:$port" \
  GEMFLASH_DATA_DIR="$data" \
  GEMFLASH_LOG=warn \
  LEPTOS_SITE_ROOT=target/site \
  LEPTOS_ENV=PROD \
  target/release/gemflash >/dev/null 2>&1 &
server=$!
env -i PATH="$PATH" \
  GEMFLASH_ADDR="127.0.0.1:$((port + 1))" \
  GEMFLASH_PUBLIC_ORIGIN="https://127.0.0.1:$((port + 1))" \
  GEMFLASH_DATA_DIR="$data/access" \
  GEMFLASH_ACCESS=token \
  GEMFLASH_ACCESS_TOKENS="$token" \
  GEMFLASH_LOG=warn \
  LEPTOS_SITE_ROOT=target/site \
  LEPTOS_ENV=PROD \
  target/release/gemflash >/dev/null 2>&1 &
access=$!
trap 'kill $server $access 2>/dev/null || true; rm -rf "$data"' EXIT
for p in "$port" "$((port + 1))"; do
  for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
    sleep 0.1
  done
done
base="http://127.0.0.1:$port"
# One image, so an image's page is scanned too.
id=$(curl -sf -X POST "$base/api/generate_image" -H "origin: https://127.0.0.1:$port" \
  -H 'content-type: application/json' \
  -d '{"request":{"prompt":"a lighthouse at dusk","model":"gemini-3.1-flash-image","aspect_ratio":"1:1","image_size":null}}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
findings=0
scan() { # url [request args]
  local out
  out=$(tools/.venv/bin/drheader scan single --output json "$@" 2>&1) || true
  local n
  n=$(printf '%s' "$out" | python3 -c 'import json, sys
try:
    print(len(json.loads(sys.stdin.read())))
except Exception:
    print(-1)')
  if [[ $n != 0 ]]; then
    echo "drheader: $1: ${n/-1/unreadable output}" >&2
    printf '%s\n' "$out" >&2
    findings=$((findings + 1))
  else
    echo "drheader: $1: no findings"
  fi
}
for path in / /editor /gallery "/gallery/$id" /no-such-page /healthz; do
  scan "$base$path"
done
scan "http://127.0.0.1:$((port + 1))/login"
if ((findings > 0)); then
  echo "drheader found problems on $findings answers" >&2
  exit 1
fi
