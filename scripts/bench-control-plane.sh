#!/usr/bin/env bash
# Benchmark (not a test): one reconciler serving fleets of lightweight proxies (default
# 100, 1,000 and 10,000; pass sizes to choose) plus a real proxy pair under load, and the
# compile time of 10,000 services. See reconciler/examples/bench_control_plane.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
cargo build --release --quiet -p meshcd --bin meshcd --example bench_control_plane
cargo build --release --quiet -p meshcd-proxy --bin meshcd-proxy
# Each proxy holds a connection: the bench and the reconciler need a descriptor apiece.
ulimit -n "$(ulimit -Hn)"
exec "$CARGO_TARGET_DIR/release/examples/bench_control_plane" \
  "$CARGO_TARGET_DIR/release/meshcd" "$CARGO_TARGET_DIR/release/meshcd-proxy" "$@"
