#!/usr/bin/env bash
# Dependency policy (deny.toml): licenses, banned and duplicate crates, sources.
# Installs cargo-deny once, outside the clone (reused between runs; ~4 minutes to build the
# first time). Advisories are left out: their database is fetched from GitHub, which this
# project's machines cannot reach (`cargo deny check advisories` wherever it can).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${MESHCD_TOOLS_DIR:-/var/tmp/cargo-tools}
DENY_VERSION=0.20.2
if [ "$("$TOOLS/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny $DENY_VERSION" ]; then
  echo "deny.sh: installing cargo-deny $DENY_VERSION into $TOOLS (first run only)" >&2
  # Its own target dir: the project's builds are not disturbed by its features.
  CARGO_TARGET_DIR="$TOOLS/target" cargo install --quiet --locked --root "$TOOLS" "cargo-deny@$DENY_VERSION"
  rm -rf "$TOOLS/target"
fi
"$TOOLS/bin/cargo-deny" check licenses bans sources
