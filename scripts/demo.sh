#!/usr/bin/env bash
# The local mesh, live: builds meshcd and meshcd-proxy, then runs `meshcd demo`, the Open
# Service Mesh walkthrough on real processes (reconciler, apps, proxies) on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
if [ ! -x "$CARGO_TARGET_DIR/release/meshcd" ]; then
  echo "demo.sh: first build of meshcd and meshcd-proxy (release): 5 to 10 minutes on 2 cores; later runs start at once" >&2
fi
# cargo's own progress, so that a long first build is never a blank terminal.
cargo build --release --locked -p meshcd -p meshcd-proxy --bins
exec "$CARGO_TARGET_DIR/release/meshcd" demo "$@"
