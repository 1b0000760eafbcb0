#!/usr/bin/env bash
# Runs the official-SDK conformance check against the simulator binary on a free port.
# Expects the pinned requirements installed in tools/.venv (./run.sh installs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cargo build -q -p gemini-sim
GEMINI_SIM_ADDR="127.0.0.1:$port" target/debug/gemini-sim >/dev/null 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
tools/.venv/bin/python gemini-sim/conformance/python_sdk.py "http://127.0.0.1:$port"
