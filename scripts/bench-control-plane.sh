#!/usr/bin/env bash
# Benchmark (not a test): commit → every proxy ACKed for 1, 10 and 100 proxies against
# the real control plane, and the compile time of 10,000 services with their policies.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
cargo build --release --quiet -p meshcd --bin meshcd --example bench_control_plane
exec "$CARGO_TARGET_DIR/release/examples/bench_control_plane" "$CARGO_TARGET_DIR/release/meshcd"
