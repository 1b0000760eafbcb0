#!/usr/bin/env bash
# bench-load: GemFlash under load, as issue-level numbers anyone can rerun.
#
# Starts the standalone simulator (answering GEMFLASH_BENCH_LATENCY_MS, default 2000, after
# each call arrives, with photo-sized 1024x1024 images that differ on every call: PNGs of
# about 2.9 MB from GEMFLASH_BENCH_MODEL, default gemini-3.1-flash-image; gemini-3-pro-image
# answers JPEGs of about 140 KB, which repeat every 16 calls; PNGs differ on every call, so
# every generation writes files of its own) and the release server against it, rate limit off and 128
# calls allowed at once. Then wrk drives, for GEMFLASH_BENCH_SECONDS each (default 30):
# - `generate_image` at 1 and at 64 connections;
# - `edit_image` with a 12 MP photo and a 1000x750 mask at 1 and at
#   GEMFLASH_BENCH_EDIT_CONNECTIONS (default 8).
# For each it prints req/s, p50 and p99, the server's CPU milliseconds per request (from /proc,
# the server process only), its peak RSS so far, and the machine and commit.
# GEMFLASH_IMAGE_MEMORY_MB, when set, is passed to the server (its image-memory budget bounds
# the jobs in flight). Needs the release build (./run.sh build-release) and wrk (Debian's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tools/bench/common.sh
latency=${GEMFLASH_BENCH_LATENCY_MS:-2000}
seconds=${GEMFLASH_BENCH_SECONDS:-30}
model=${GEMFLASH_BENCH_MODEL:-gemini-3.1-flash-image}
edit_connections=${GEMFLASH_BENCH_EDIT_CONNECTIONS:-8}
command -v wrk >/dev/null || { echo "bench-load needs wrk (apt-get install wrk)" >&2; exit 1; }
[[ -x target/release/gemflash ]] || { echo "bench-load needs the release build: ./run.sh build-release" >&2; exit 1; }
cargo build --release --locked -q -p gemini-sim

work=$(mktemp -d)
cargo run --release --locked -q -p engine --example edit_body -- "$work/edit.body" >&2
sim_port=$(free_port)
port=$(free_port)
data="$work/data"
GEMINI_SIM_ADDR="127.0.0.1:$sim_port" GEMINI_SIM_LATENCY_MS="$latency" GEMINI_SIM_GRAIN=1 \
  target/release/gemini-sim >/dev/null 2>&1 &
sim=$!
GEMFLASH_ADDR="127.0.0.1:$port" GEMFLASH_DATA_DIR="$data" LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD \
  GEMINI_API_KEY=bench-key GEMINI_BASE_URL="http://127.0.0.1:$sim_port" GEMFLASH_LOG=warn \
  GEMFLASH_RATE_LIMIT_PER_MINUTE=0 GEMFLASH_MAX_CONCURRENT_CALLS=128 GEMFLASH_MAX_JOBS_PER_CLIENT=127 \
  target/release/gemflash &
server=$!
trap 'kill $server $sim 2>/dev/null || true; rm -rf "$work"' EXIT
wait_ready "$port"

# The summary line every scenario's script ends with.
cat >"$work/done.lua" <<'LUA'
response = function(status)
  if status ~= 200 then errors = (errors or 0) + 1 end
end
done = function(summary, latency)
  io.write(string.format("RESULT requests=%d duration=%.1f p50_ms=%.0f p99_ms=%.0f non2xx=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
LUA
# Generations: a 1024x1024 image from $model, every request with words of its own.
cat - "$work/done.lua" >"$work/generate.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  local body = '{"request":{"prompt":"a harbour at dawn, take ' .. n .. '","model":"$model","aspect_ratio":"1:1","image_size":"1K"}}'
  return wrk.format("POST", "/api/generate_image", {
    ["Content-Type"] = "application/json",
    ["Origin"] = "http://127.0.0.1:$port",
  }, body)
end
LUA
# Edits: the same 12 MP photo and mask each time (the photo is read once, at start).
cat - "$work/done.lua" >"$work/edit.lua" <<LUA
local file = io.open("$work/edit.body", "rb")
local body = file:read("*a")
file:close()
request = function()
  return wrk.format("POST", "/api/edit_image", {
    ["Content-Type"] = "multipart/form-data; boundary=gemflash-bench",
    ["Accept"] = "application/json",
    ["Origin"] = "http://127.0.0.1:$port",
  }, body)
end
LUA

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
echo "machine: $(machine); upstream ${latency} ms; model $model; image memory ${GEMFLASH_IMAGE_MEMORY_MB:-default} MB"
printf '%-9s %11s %8s %8s %8s %10s %12s %12s\n' scenario connections req/s p50_ms p99_ms over_p50 cpu_ms/req peak_rss_MB
scenario() {
  local name=$1 connections=$2
  local before after line requests duration p50_ms p99_ms non2xx errors rss
  before=$(cpu_ticks)
  line=$(wrk -t"$(( connections < 2 ? 1 : 2 ))" -c"$connections" -d"${seconds}s" --timeout 60s --latency \
    -s "$work/$name.lua" "http://127.0.0.1:$port" | grep "^RESULT")
  after=$(cpu_ticks)
  eval "${line#RESULT }"
  rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status")
  awk -v n="$name" -v c="$connections" -v r="$requests" -v s="$seconds" -v p50="$p50_ms" -v p99="$p99_ms" \
      -v l="$latency" -v t=$((after - before)) -v hz="$ticks" -v rss="$rss" -v bad="$non2xx" 'BEGIN {
    cpu = (r > 0) ? t * 1000 / hz / r : 0
    note = (bad > 0) ? "  (" bad " not 200)" : ""
    printf "%-9s %11s %8.2f %8d %8d %10d %12.1f %12d%s\n", n, c, r / s, p50, p99, p50 - l, cpu, rss, note
  }'
}
scenario generate 1
scenario generate 64
scenario edit 1
scenario edit "$edit_connections"
# The stored files' average size (images and thumbnails, by kilobytes on disk).
files=$(find "$data/blobs" "$data/thumbs" -type f | wc -l)
echo "stored: $files files, $(( files > 0 ? $(du -sk "$data/blobs" "$data/thumbs" | awk '{ s += $1 } END { print s }') / files : 0 )) KB a file on average"
