#!/usr/bin/env bash
# Puts `meshcd` and `meshcd-proxy` on PATH: builds them (release, unless --debug) and
# copies both into PREFIX/bin. They must stay side by side: `meshcd up` and `meshcd demo`
# start the proxy found next to meshcd.
#
# usage: scripts/install.sh [--prefix DIR] [--debug]
#   --prefix DIR  where bin/ goes (default: $PREFIX, else ~/.local)
#   --debug       install the debug build (builds in about a minute; slower to run)
# The first release build takes 5 to 10 minutes on a 2-core machine (link-time
# optimisation); `cargo install --path reconciler && cargo install --path proxy` does the
# same into ~/.cargo/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
PREFIX=${PREFIX:-$HOME/.local}
PROFILE=release
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) PREFIX=$2; shift ;;
    --debug) PROFILE=debug ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$PROFILE" = release ]; then
  echo "install.sh: building meshcd and meshcd-proxy (release; the first build takes 5 to 10 minutes on 2 cores)" >&2
  cargo build --release --locked -p meshcd -p meshcd-proxy --bins
else
  # The same build as scripts/test.sh's, so that the suite reuses it.
  cargo build --locked --workspace --bins
fi
mkdir -p "$PREFIX/bin"
for binary in meshcd meshcd-proxy; do
  # Through a temporary name, so that a running copy is replaced, not overwritten.
  install -m 0755 "$CARGO_TARGET_DIR/$PROFILE/$binary" "$PREFIX/bin/.$binary.new"
  mv -f "$PREFIX/bin/.$binary.new" "$PREFIX/bin/$binary"
done
echo "install.sh: installed $PREFIX/bin/meshcd and $PREFIX/bin/meshcd-proxy ($("$PREFIX/bin/meshcd" version))" >&2
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "install.sh: $PREFIX/bin is not on PATH: add  export PATH=\"$PREFIX/bin:\$PATH\"  to your shell's profile" >&2 ;;
esac
