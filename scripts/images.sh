#!/usr/bin/env bash
# Builds meshcd's two images without Docker and loads them into a kube-local node's
# containerd, from the release binaries of this tree:
#   meshcd/meshcd:TAG        the reconciler (meshcd, ssh-keygen for signature checks,
#                            CA roots for https remotes), user 65532
#   meshcd/meshcd-proxy:TAG  the sidecar and its iptables init container (meshcd-proxy,
#                            iptables-nft, a shell for the init script)
# Same contents as deploy/docker/*.Dockerfile, which stay the way to build them with Docker.
#
# usage: scripts/images.sh [--tag TAG] [--debug] [--testapp] [--kube-local DIR] [--output DIR]
#   --tag TAG         image tag (default: the crate version, what `meshcd install` uses)
#   --debug           package the debug build (faster to build, slower to run)
#   --testapp         also meshcd/meshcd-testapp:TAG, the end-to-end tests' app with
#                     busybox (sh, wget) for calls from inside a pod
#   --kube-local DIR  kube-local's folder, holding make-image.sh (default: $KUBE_LOCAL or
#                     /var/tmp/kube-local)
#   --output DIR      also keep the docker-archive tarballs there (for `docker load` or
#                     `ctr images import` on another node)
# Needs: busybox-static and iptables (Debian packages) on this machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# iptables and friends live in sbin, which a non-root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

TAG=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)
PROFILE=release
KUBE_LOCAL=${KUBE_LOCAL:-/var/tmp/kube-local}
OUTPUT=""
TESTAPP=0
while [ $# -gt 0 ]; do
  case $1 in
    --tag) TAG=$2; shift ;;
    --debug) PROFILE=debug ;;
    --testapp) TESTAPP=1 ;;
    --kube-local) KUBE_LOCAL=$2; shift ;;
    --output) OUTPUT=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "images.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# Paths given relative to where the script was called from.
KUBE_LOCAL=$(realpath -m "$KUBE_LOCAL")
[ -z "$OUTPUT" ] || OUTPUT=$(realpath -m "$OUTPUT")
cd "$ROOT"

MAKE_IMAGE=$KUBE_LOCAL/make-image.sh
[ -x "$MAKE_IMAGE" ] || {
  echo "images.sh: no $MAKE_IMAGE: copy ../shared/tools/kube-local there (see its README) or pass --kube-local" >&2
  exit 1
}
for tool in busybox iptables ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "images.sh: $tool is missing (apt-get install busybox-static iptables openssh-client)" >&2; exit 1; }
done
XTABLES=$(ls -d /usr/lib/*/xtables 2>/dev/null | head -n1 || true)
[ -n "$XTABLES" ] || { echo "images.sh: no /usr/lib/<triplet>/xtables (apt-get install iptables)" >&2; exit 1; }

PACKAGES=(-p meshcd -p meshcd-proxy)
[ "$TESTAPP" = 0 ] || PACKAGES+=(-p meshcd-e2e --bin meshcd-testapp --bin meshcd --bin meshcd-proxy)
if [ "$PROFILE" = release ]; then
  cargo build --release --locked "${PACKAGES[@]}"
else
  cargo build --locked "${PACKAGES[@]}"
fi
TARGET=${CARGO_TARGET_DIR:-target}/$PROFILE

ARCHIVE=()
archive() { # NAME: ARCHIVE=(--output FILE) when tarballs are kept
  ARCHIVE=()
  [ -z "$OUTPUT" ] || { mkdir -p "$OUTPUT"; ARCHIVE=(--output "$OUTPUT/$1-$TAG.tar"); }
}

# The proxy runs as 2102 (the injector sets it; the iptables rules exempt that user).
archive meshcd-proxy
"$MAKE_IMAGE" "${ARCHIVE[@]}" \
  --add "$XTABLES" --add /etc/protocols \
  --link /usr/sbin/ip6tables:iptables \
  --add /bin/busybox:/bin/busybox --link /bin/sh:busybox \
  --user 2102:2102 \
  "meshcd/meshcd-proxy:$TAG" "$TARGET/meshcd-proxy" "$(command -v iptables):/usr/sbin/iptables"

archive meshcd
"$MAKE_IMAGE" "${ARCHIVE[@]}" --certs --user 65532:65532 \
  --entrypoint /usr/local/bin/meshcd --cmd run --cmd --kubernetes \
  "meshcd/meshcd:$TAG" "$TARGET/meshcd" "$(command -v ssh-keygen)"

if [ "$TESTAPP" = 1 ]; then
  archive meshcd-testapp
  "$MAKE_IMAGE" "${ARCHIVE[@]}" --busybox-links \
    --entrypoint /usr/local/bin/meshcd-testapp \
    "meshcd/meshcd-testapp:$TAG" "$TARGET/meshcd-testapp" /bin/busybox:/bin/busybox
fi

echo "images: meshcd/meshcd:$TAG meshcd/meshcd-proxy:$TAG ($PROFILE build) loaded into $KUBE_LOCAL's containerd"
echo "install: meshcd install --repo URL --image meshcd/meshcd:$TAG --proxy-image meshcd/meshcd-proxy:$TAG | kubectl apply --server-side -f -"
