#!/usr/bin/env bash
# bench-lighthouse: Lighthouse's scores for the pages people open, from the release build.
#
# Starts the release server against its built-in simulator on a free port with a fresh data
# directory, makes a gallery of GEMFLASH_BENCH_IMAGES images (default 100) through the
# `generate_image` server function, then runs npm `lighthouse` (tools/bench/lighthouse, with
# Debian's Chromium, Lighthouse's default mobile emulation and simulated throttling)
# GEMFLASH_BENCH_RUNS times (default 3) on `/`, `/editor`, `/gallery` and one image's page.
# For each page it prints the median run's performance score, its accessibility and
# best-practices scores, FCP, LCP, TBT and CLS, and what the page transferred (all of it, and
# its WASM). The reports are left in target/lighthouse/ (JSON). Needs the release build
# (./run.sh build-release).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tools/bench/common.sh
images=${GEMFLASH_BENCH_IMAGES:-100}
runs=${GEMFLASH_BENCH_RUNS:-3}
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
[[ -x target/release/gemflash ]] || { echo "bench-lighthouse needs the release build: ./run.sh build-release" >&2; exit 1; }
[[ -x $chromium ]] || { echo "bench-lighthouse needs Chromium at $chromium (apt-get install chromium)" >&2; exit 1; }
lighthouse=tools/bench/lighthouse/node_modules/.bin/lighthouse

port=$(free_port)
data=$(mktemp -d)
out=target/lighthouse
rm -rf "$out" && mkdir -p "$out"
GEMFLASH_ADDR="127.0.0.1:$port" GEMFLASH_DATA_DIR="$data" LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD \
  GEMINI_API_KEY= GEMFLASH_LOG=warn GEMFLASH_RATE_LIMIT_PER_MINUTE=0 GEMFLASH_MAX_JOBS_PER_CLIENT=16 \
  GEMFLASH_MAX_CONCURRENT_CALLS=16 target/release/gemflash &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
wait_ready "$port"
origin="http://127.0.0.1:$port"

# The gallery: every image with a prompt of its own, in three shapes, eight at a time.
generate() {
  local ratios=(1:1 16:9 3:4)
  curl -sf -o /dev/null -X POST "$origin/api/generate_image" -H 'Content-Type: application/json' \
    -H "Origin: $origin" \
    --data "{\"request\":{\"prompt\":\"a lighthouse on a rocky coast, study $1\",\"model\":\"gemini-3.1-flash-image\",\"aspect_ratio\":\"${ratios[$1 % 3]}\",\"image_size\":\"1K\"}}"
}
export -f generate
export origin
seq "$images" | xargs -P 8 -I{} bash -c 'generate {}'
image=$(curl -sf "$origin/gallery" | grep -oE '/gallery/[A-Za-z0-9_-]+' | head -n1)
[[ -n $image ]] || { echo "the gallery lists no image" >&2; exit 1; }

echo "machine: $(machine); Lighthouse $("$lighthouse" --version), $("$chromium" --version 2>/dev/null); $images images; median of $runs runs"
printf '%-14s %5s %5s %5s %8s %8s %7s %6s %9s %8s\n' page perf a11y bp FCP_ms LCP_ms TBT_ms CLS total_KB wasm_KB
for page in / /editor /gallery "$image"; do
  name=$(echo "$page" | tr -c 'A-Za-z0-9\n' '_')
  for run in $(seq "$runs"); do
    # Lighthouse now and then loses the trace of a load (NO_NAVSTART): such a run is made
    # again, at most twice; a page that fails three times in a row fails the bench.
    for attempt in 1 2 3; do
      if CHROME_PATH=$chromium "$lighthouse" "$origin$page" --quiet --output=json \
        --output-path="$out/${name}_$run.json" \
        --only-categories=performance,accessibility,best-practices \
        --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"; then
        break
      fi
      ((attempt < 3)) || { echo "Lighthouse failed three times on $page" >&2; exit 1; }
      echo "Lighthouse run $run on $page failed; again" >&2
    done
  done
  node tools/bench/lighthouse-summary.mjs "$page" "$out/${name}_"*.json
done
echo "reports: $out/"
