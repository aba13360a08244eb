#!/usr/bin/env bash
# Benchmark (not a test): git push + signed webhook → all 10 meshcd-proxy processes ACKed,
# against a git daemon on loopback. Target: p99 under 500 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
cargo build --release --quiet -p meshcd --bin meshcd --example bench_webhook
cargo build --release --quiet -p meshcd-proxy --bin meshcd-proxy
exec "$CARGO_TARGET_DIR/release/examples/bench_webhook" "$CARGO_TARGET_DIR/release"
