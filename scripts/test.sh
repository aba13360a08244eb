#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, checks formatting and
# lints, builds every binary, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are reused between runs through a target dir outside the clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ -x scripts/install-test-deps.sh ]; then
  scripts/install-test-deps.sh
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo deny (licenses, bans, sources)"
scripts/deny.sh
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo build (binaries the end-to-end tests start)"
cargo build --workspace --bins
echo "== cargo test"
# The end-to-end harness would build the binaries itself; they were just built.
MESHCD_E2E_SKIP_BUILD=1 cargo test --workspace --no-fail-fast
