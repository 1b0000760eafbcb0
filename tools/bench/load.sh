#!/usr/bin/env bash
# bench-load: GemFlash under load, as issue-level numbers anyone can rerun.
#
# Starts the standalone simulator (answering GEMFLASH_BENCH_LATENCY_MS, default 2000, after
# each call arrives, with photo-sized 1024x1024 images that differ on every call: PNGs of
# about 2.9 MB from GEMFLASH_BENCH_MODEL, default gemini-3.1-flash-image; gemini-3-pro-image
# answers JPEGs of about 140 KB, which repeat every 16 calls; PNGs differ on every call, so
# every generation writes files of its own) and the release server against it, rate limit off and 128
# calls allowed at once. Then wrk drives, each for GEMFLASH_BENCH_WARM seconds (default 5)
# and then GEMFLASH_BENCH_SECONDS more (default 30):
# - `generate_image` at 1 connection;
# - `generate_image` at 64 connections all starting at once (a burst: the first 64 answers
#   arrive in the same instant);
# - `generate_image` at 64 connections whose first calls are spread over one upstream latency
#   (people do not all press at the same millisecond), so the run is in its steady state;
# - `edit_image` with a 12 MP photo and a 1000x750 mask at 1 and at
#   GEMFLASH_BENCH_EDIT_CONNECTIONS (default 8).
# For each it prints wrk's req/s over the whole run, the steady req/s (the server's own count of
# answered calls, from /metrics, over the GEMFLASH_BENCH_SECONDS after the warm-up: wrk's whole
# run includes the first upstream latency, in which no call can be answered, and each
# connection's last unfinished call), wrk's p50 and p99 over the whole run and their distance
# from the upstream latency, the same two over the window only (from the server's own
# "response" log lines: the time from a call's arrival to its answer; a burst's first round,
# all 64 answers in one instant, falls in the warm-up), the server's CPU milliseconds per
# answered call in the same window (from /proc, the server process only), its peak RSS so
# far, and the machine and commit. What the server logged besides its answers goes to stderr.
# GEMFLASH_BENCH_SCENARIOS picks and orders the scenarios, as name:connections:start words
# (default "generate:1:burst generate:64:burst generate:64:spread edit:1:burst edit:8:burst"),
# so one can be run again and again against the same server.
# GEMFLASH_IMAGE_MEMORY_MB, when set, is passed to the server (its image-memory budget bounds
# the jobs in flight). GEMFLASH_BENCH_SERVER names another server binary (an earlier commit's
# release build, for a before-and-after in one session). Needs the release build
# (./run.sh build-release) and wrk (Debian's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tools/bench/common.sh
latency=${GEMFLASH_BENCH_LATENCY_MS:-2000}
seconds=${GEMFLASH_BENCH_SECONDS:-30}
warm=${GEMFLASH_BENCH_WARM:-5}
metrics_token=bench-metrics-token-not-a-secret
model=${GEMFLASH_BENCH_MODEL:-gemini-3.1-flash-image}
edit_connections=${GEMFLASH_BENCH_EDIT_CONNECTIONS:-8}
command -v wrk >/dev/null || { echo "bench-load needs wrk (apt-get install wrk)" >&2; exit 1; }
server_bin=${GEMFLASH_BENCH_SERVER:-target/release/gemflash}
[[ -x $server_bin ]] || { echo "bench-load needs the release build: ./run.sh build-release" >&2; exit 1; }
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
  GEMINI_API_KEY=bench-key GEMINI_BASE_URL="http://127.0.0.1:$sim_port" GEMFLASH_LOG=warn,server::middleware=info GEMFLASH_LOG_FORMAT=json GEMFLASH_METRICS_TOKEN="$metrics_token" \
  GEMFLASH_RATE_LIMIT_PER_MINUTE=0 GEMFLASH_MAX_CONCURRENT_CALLS=128 GEMFLASH_MAX_JOBS_PER_CLIENT=127 \
  "$server_bin" >"$work/server.log" &
server=$!
# The server is waited for before its data goes: it may still be writing a file.
trap 'kill $server $sim 2>/dev/null || true; wait $server $sim 2>/dev/null || true; rm -rf "$work"' EXIT
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
# Spreading the connections' first calls: connection k of n waits k/n of `spread` ms before
# its first call (wrk asks `delay` before every call; a thread's first calls are its
# connections' first). `spread`, `connections` and `threads` are set in front of this.
# `index` is the thread's own global, set by `setup` (which runs in wrk's main state); a
# local of the same name would hide it.
cat >"$work/spread.lua" <<'LUA'
local threads_seen = 0
setup = function(thread)
  thread:set("index", threads_seen)
  threads_seen = threads_seen + 1
end
local firsts = 0
delay = function()
  if spread == 0 or firsts >= connections / threads then return 0 end
  firsts = firsts + 1
  return ((firsts - 1) * threads + (index or 0)) * spread / connections
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
# Calls the server answered with 200, by its own count.
answered() {
  curl -sf -H "Authorization: Bearer $metrics_token" "http://127.0.0.1:$port/metrics" |
    awk '/^gemflash_http_requests_total\{/ && /status="200"/ && /route="\/api\// { n += $NF } END { print n + 0 }'
}
# The server's log lines so far (each answer writes one).
log_lines() { wc -l <"$work/server.log"; }
# p50 and p99 (nearest rank) of the API calls answered with 200 in log lines $1+1..$2, as
# "p50 p99" in milliseconds, or "- -" when there were none.
window_percentiles() {
  awk -v from="$1" -v to="$2" 'NR > from && NR <= to && /"message":"response"/ &&
      /"status":200/ && /"route":"\/api\// {
        sub(/.*"latency_ms":/, ""); sub(/[^0-9].*/, ""); print
      }' "$work/server.log" | sort -n |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "- -"; exit }
      i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
      i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
      print v[i50], v[i99]
    }'
}
echo "machine: $(machine); server $server_bin; upstream ${latency} ms; model $model; image memory ${GEMFLASH_IMAGE_MEMORY_MB:-default} MB"
echo "window: ${seconds} s after ${warm} s of warm-up"
printf '%-9s %5s %6s %8s %8s %8s %8s %9s %9s %12s %12s %10s %12s\n' scenario conns start req/s steady p50_ms p99_ms over_p50 over_p99 win_over_p50 win_over_p99 cpu_ms/req peak_rss_MB
scenario() {
  local name=$1 connections=$2 start=$3
  local threads=$(( connections < 2 ? 1 : 2 )) spread=0 out=$work/wrk.out
  local before after count0 count1 lines0 lines1 line requests duration p50_ms p99_ms non2xx errors rss win
  [[ $start == spread ]] && spread=$latency
  { echo "spread = $spread; connections = $connections; threads = $threads"; cat "$work/spread.lua" "$work/$name.lua"; } >"$work/run.lua"
  wrk -t"$threads" -c"$connections" -d"$(( warm + seconds + 1 ))s" --timeout 60s --latency \
    -s "$work/run.lua" "http://127.0.0.1:$port" >"$out" &
  local load=$!
  sleep "$warm"
  before=$(cpu_ticks); count0=$(answered); lines0=$(log_lines)
  sleep "$seconds"
  after=$(cpu_ticks); count1=$(answered); lines1=$(log_lines)
  wait "$load"
  line=$(grep "^RESULT" "$out")
  eval "${line#RESULT }"
  rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status")
  win=$(window_percentiles "$lines0" "$lines1")
  awk -v n="$name" -v c="$connections" -v st="$start" -v r="$requests" -v d="$duration" -v w="$seconds" \
      -v a=$((count1 - count0)) -v p50="$p50_ms" -v p99="$p99_ms" -v l="$latency" -v t=$((after - before)) \
      -v hz="$ticks" -v rss="$rss" -v bad="$non2xx" -v win="$win" 'BEGIN {
    split(win, wp, " ")
    w50 = (wp[1] == "-") ? "-" : wp[1] - l
    w99 = (wp[2] == "-") ? "-" : wp[2] - l
    cpu = (a > 0) ? t * 1000 / hz / a : 0
    note = (bad > 0) ? "  (" bad " not 200)" : ""
    printf "%-9s %5s %6s %8.2f %8.2f %8d %8d %9d %9d %12s %12s %10.1f %12d%s\n", n, c, st, r / d, a / w, p50, p99, p50 - l, p99 - l, w50, w99, cpu, rss, note
  }'
}
scenarios=${GEMFLASH_BENCH_SCENARIOS:-generate:1:burst generate:64:burst generate:64:spread edit:1:burst edit:$edit_connections:burst}
read -ra runs <<<"$scenarios"
for run in "${runs[@]}"; do
  [[ $run =~ ^(generate|edit):[1-9][0-9]*:(burst|spread)$ ]] || {
    echo "GEMFLASH_BENCH_SCENARIOS: \"$run\" is not generate|edit:<connections>:burst|spread" >&2
    exit 2
  }
done
for run in "${runs[@]}"; do
  IFS=: read -r name connections start <<<"$run"
  scenario "$name" "$connections" "$start"
done
# What the server logged besides its answers (warnings, errors), before its directory goes.
grep -v '"message":"response"' "$work/server.log" >&2 || true
# The stored files' average size (images and thumbnails, by kilobytes on disk).
files=$(find "$data/blobs" "$data/thumbs" -type f | wc -l)
echo "stored: $files files, $(( files > 0 ? $(du -sk "$data/blobs" "$data/thumbs" | awk '{ s += $1 } END { print s }') / files : 0 )) KB a file on average"
