#!/usr/bin/env bash
# The local mesh, live: builds meshcd and meshcd-proxy, then runs `meshcd demo`, the Open
# Service Mesh walkthrough on real processes (reconciler, apps, proxies) on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
cargo build --release --bins --quiet
exec "$CARGO_TARGET_DIR/release/meshcd" demo "$@"
