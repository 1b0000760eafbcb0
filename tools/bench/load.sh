#!/usr/bin/env bash
# bench-load: GemFlash under load, as issue-level numbers anyone can rerun.
#
# Starts the standalone simulator (answering after GEMFLASH_BENCH_LATENCY_MS, default 2000,
# with photo-sized 1024x1024 PNGs that differ on every call) and the release server against
# it, rate limit off and 128 calls allowed at once; then drives `generate_image` with wrk at
# 1 and at 64 connections (GEMFLASH_BENCH_SECONDS each, default 30) and prints req/s, p50 and
# p99, the server's CPU milliseconds per generation (from /proc, the server process only),
# its peak RSS, and the machine and commit. GEMFLASH_IMAGE_MEMORY_MB, when set, is passed to
# the server (its image-memory budget bounds the generations in flight: a 1K generation
# reserves 44 MB). Needs the release build (./run.sh build-release) and wrk (Debian's package).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tools/bench/common.sh
latency=${GEMFLASH_BENCH_LATENCY_MS:-2000}
seconds=${GEMFLASH_BENCH_SECONDS:-30}
command -v wrk >/dev/null || { echo "bench-load needs wrk (apt-get install wrk)" >&2; exit 1; }
[[ -x target/release/gemflash ]] || { echo "bench-load needs the release build: ./run.sh build-release" >&2; exit 1; }
cargo build --release --locked -q -p gemini-sim

sim_port=$(free_port)
port=$(free_port)
data=$(mktemp -d)
GEMINI_SIM_ADDR="127.0.0.1:$sim_port" GEMINI_SIM_LATENCY_MS="$latency" GEMINI_SIM_GRAIN=1 \
  target/release/gemini-sim >/dev/null 2>&1 &
sim=$!
GEMFLASH_ADDR="127.0.0.1:$port" GEMFLASH_DATA_DIR="$data" LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD \
  GEMINI_API_KEY=bench-key GEMINI_BASE_URL="http://127.0.0.1:$sim_port" GEMFLASH_LOG=warn \
  GEMFLASH_RATE_LIMIT_PER_MINUTE=0 GEMFLASH_MAX_CONCURRENT_CALLS=128 GEMFLASH_MAX_JOBS_PER_CLIENT=127 \
  target/release/gemflash &
server=$!
script=
trap 'kill $server $sim 2>/dev/null || true; rm -rf "$data" "$script"' EXIT
wait_ready "$port"

# Every request asks for a 1024x1024 image from Nano Banana Pro with words of its own.
script=$(mktemp --suffix=.lua)
cat >"$script" <<LUA
local n = 0
request = function()
  n = n + 1
  local body = '{"request":{"prompt":"a harbour at dawn, take ' .. n .. '","model":"gemini-3-pro-image","aspect_ratio":"1:1","image_size":"1K"}}'
  return wrk.format("POST", "/api/generate_image", {
    ["Content-Type"] = "application/json",
    ["Origin"] = "http://127.0.0.1:$port",
  }, body)
end
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

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
echo "machine: $(machine); upstream ${latency} ms; image memory ${GEMFLASH_IMAGE_MEMORY_MB:-default} MB"
printf '%-12s %8s %8s %8s %10s %12s %12s %10s\n' connections req/s p50_ms p99_ms over_p50 cpu_ms/gen peak_rss_MB stored_KB
for connections in 1 64; do
  before=$(cpu_ticks)
  line=$(wrk -t"$(( connections < 2 ? 1 : 2 ))" -c"$connections" -d"${seconds}s" --timeout 30s --latency -s "$script" "http://127.0.0.1:$port" | grep "^RESULT")
  after=$(cpu_ticks)
  eval "${line#RESULT }"
  rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status")
  # The stored files' average size (images and thumbnails, by kilobytes on disk).
  files=$(find "$data/blobs" -type f | wc -l)
  stored=$(( files > 0 ? $(du -sk "$data/blobs" | cut -f1) / files : 0 ))
  awk -v c="$connections" -v r="$requests" -v s="$seconds" -v p50="$p50_ms" -v p99="$p99_ms" \
      -v l="$latency" -v t=$((after - before)) -v hz="$ticks" -v rss="$rss" -v bad="$non2xx" -v kb="$stored" 'BEGIN {
    cpu = (r > 0) ? t * 1000 / hz / r : 0
    note = (bad > 0) ? "  (" bad " not 200)" : ""
    printf "%-12s %8.2f %8d %8d %10d %12.1f %12d %10d%s\n", c, r / s, p50, p99, p50 - l, cpu, rss, kb, note
  }'
done
