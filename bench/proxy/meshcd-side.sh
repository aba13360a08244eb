#!/usr/bin/env bash
# meshcd-side.sh - starts ONE meshcd-proxy for bench/proxy-peers.sh, configured from the
# harness's PEERS_* environment, then becomes that proxy (exec: the harness measures the PID
# it started). Used by scripts/bench-proxy.sh as --extra-cmd and --extra-pair-cmd.
#
# Usage: meshcd-side.sh one-hop|client|server
#   one-hop  the inbound listener on PEERS_LISTEN_ADDR in permissive mTLS: the load
#            generator's plaintext requests (identity "unauthenticated", admitted by an SMI
#            rule that names it) are authorized and forwarded to PEERS_UPSTREAM_ADDR. meshcd's
#            only single-proxy data path: its outbound side always crosses mTLS to a peer.
#   client   the outbound listener on PEERS_LISTEN_ADDR: plaintext HTTP/1.1 from the load
#            generator, routed by its Host (127.0.0.1:PORT, the service's ClusterIP:port) to
#            the one endpoint PEERS_FORWARD_ADDR over mTLS (TLS 1.3, HTTP/2, one pooled
#            connection), the server's SPIFFE id checked against PEERS_SERVER_ID. With
#            MESHCD_BENCH_CLIENT_SNAPSHOT=client-routes.snapshot.json the service has a
#            10-rule Gateway API route table (bench/proxy/routes.sh).
#   server   the inbound listener on PEERS_LISTEN_ADDR in strict mTLS: client certificate
#            required and chained to PEERS_CA_FILE, the caller's SPIFFE id authorized by an
#            SMI rule naming PEERS_CLIENT_ID, forwarded in plaintext to PEERS_FORWARD_ADDR.
#
# Needs in the environment:
#   MESHCD_PROXY_BIN    the meshcd-proxy binary (release build)
#   MESHCD_BENCH_DIR    a private directory for the snapshot files and RSS samples
#   one-hop only: MESHCD_BENCH_ONE_HOP_CERT, MESHCD_BENCH_ONE_HOP_KEY, MESHCD_BENCH_ONE_HOP_CA,
#                 MESHCD_BENCH_ONE_HOP_ID (a workload certificate; plaintext clients never see it)
# The unused listeners (and the admin listener) take free ports (127.0.0.1:0).
#
# Memory: a detached sampler appends "SECONDS VmRSS VmHWM" (kB) to $MESHCD_BENCH_DIR/rss-<role>.txt
# every second for 5 s, then every 2 s until the proxy exits. The 5 s sample is the idle figure:
# the harness measures every other target first, so by then the proxy has served only the
# harness's start-up check requests. The last VmHWM is the proxy's peak RSS over the run.
set -euo pipefail

role="${1:?usage: meshcd-side.sh one-hop|client|server}"
here="$(cd "$(dirname "$0")" && pwd)"
: "${MESHCD_PROXY_BIN:?}" "${MESHCD_BENCH_DIR:?}"
dir="$MESHCD_BENCH_DIR"
snapshot="$dir/snapshot-$role.json"

# The proxy reads PKCS#8 keys ("BEGIN PRIVATE KEY"); older OpenSSL writes SEC1 or PKCS#1.
pkcs8_key() { # key-file -> path of a PKCS#8 copy (the file itself when it already is one)
  if grep -q -- '-----BEGIN PRIVATE KEY-----' "$1"; then echo "$1"; return; fi
  local out="$dir/key-$role.pk8.pem"
  (umask 077; openssl pkcs8 -topk8 -nocrypt -in "$1" -out "$out")
  echo "$out"
}

fill() { # template key=value... -> the snapshot file
  local template="$1" expr=() pair
  shift
  for pair in "$@"; do expr+=(-e "s|@${pair%%=*}@|${pair#*=}|g"); done
  sed "${expr[@]}" "$here/$template" >"$snapshot"
  if grep -q '@[A-Z_]*@' "$snapshot"; then
    echo "meshcd-side.sh: unfilled placeholder in $snapshot" >&2; exit 1
  fi
}

case "$role" in
  one-hop)
    : "${PEERS_LISTEN_ADDR:?}" "${PEERS_UPSTREAM_ADDR:?}" "${MESHCD_BENCH_ONE_HOP_ID:?}"
    fill one-hop.snapshot.json "SELF_ID=$MESHCD_BENCH_ONE_HOP_ID" "APP_ADDR=$PEERS_UPSTREAM_ADDR"
    cert="$MESHCD_BENCH_ONE_HOP_CERT"; key="$(pkcs8_key "$MESHCD_BENCH_ONE_HOP_KEY")"
    ca="$MESHCD_BENCH_ONE_HOP_CA"
    listeners=(--outbound 127.0.0.1:0 --inbound "$PEERS_LISTEN_ADDR") ;;
  client)
    : "${PEERS_LISTEN_ADDR:?}" "${PEERS_FORWARD_ADDR:?}" "${PEERS_CLIENT_ID:?}" "${PEERS_SERVER_ID:?}"
    fill "${MESHCD_BENCH_CLIENT_SNAPSHOT:-client.snapshot.json}" "SELF_ID=$PEERS_CLIENT_ID" "CLUSTER_IP=${PEERS_CLIENT_LISTEN_ADDR%:*}" \
      "SERVICE_PORT=${PEERS_CLIENT_LISTEN_ADDR##*:}" "PEER_ADDR=$PEERS_FORWARD_ADDR" \
      "PEER_ID=$PEERS_SERVER_ID"
    cert="$PEERS_CLIENT_CERT"; key="$(pkcs8_key "$PEERS_CLIENT_KEY")"; ca="$PEERS_CA_FILE"
    listeners=(--outbound "$PEERS_LISTEN_ADDR" --inbound 127.0.0.1:0) ;;
  server)
    : "${PEERS_LISTEN_ADDR:?}" "${PEERS_FORWARD_ADDR:?}" "${PEERS_CLIENT_ID:?}" "${PEERS_SERVER_ID:?}"
    fill server.snapshot.json "SELF_ID=$PEERS_SERVER_ID" "SERVICE_PORT=${PEERS_CLIENT_LISTEN_ADDR##*:}" \
      "APP_ADDR=$PEERS_FORWARD_ADDR" "PEER_ID=$PEERS_CLIENT_ID"
    cert="$PEERS_SERVER_CERT"; key="$(pkcs8_key "$PEERS_SERVER_KEY")"; ca="$PEERS_CA_FILE"
    listeners=(--outbound 127.0.0.1:0 --inbound "$PEERS_LISTEN_ADDR") ;;
  *) echo "meshcd-side.sh: unknown role $role (one-hop, client or server)" >&2; exit 2 ;;
esac

# Detached (double fork): the sampler is not a child of the proxy, so the harness's
# process-tree CPU and memory sums see the proxy alone. It uses shell builtins only (one
# `sleep` per sample), so it costs the proxy's core next to nothing.
self=$$
( (start=$SECONDS
   while [ -r "/proc/$self/status" ]; do
     rss=""; hwm=""
     while read -r name value _; do
       case "$name" in VmRSS:) rss=$value ;; VmHWM:) hwm=$value ;; esac
     done <"/proc/$self/status" || true
     [ -n "$rss" ] || break
     echo "$((SECONDS - start)) $rss $hwm"
     if [ $((SECONDS - start)) -lt 5 ]; then sleep 1; else sleep 2; fi
   done >"$dir/rss-$role.txt") </dev/null >/dev/null 2>&1 & )

exec "$MESHCD_PROXY_BIN" --snapshot "$snapshot" --cert "$cert" --key "$key" --ca-bundle "$ca" \
  "${listeners[@]}" --admin 127.0.0.1:0 --log warn
