#!/usr/bin/env bash
# routes.sh - benchmark (not a test): what a Gateway API route table of 10 rules costs
# meshcd's mesh path, measured in ONE run against the same path without routes. Both are
# bench/proxy-peers.sh's meshcd-pair (client proxy: outbound, Host routing -> mTLS, HTTP/2
# -> server proxy: inbound, SPIFFE authorization -> app); "routes" gives the client's
# service a 10-rule table (bench/proxy/client-routes.snapshot.json: nine PathPrefix rules,
# three with a header match, none matching the load's path, then a catch-all that does), so
# every request is matched against all ten rules, in the calling proxy where GAMMA routing
# runs. Rounds alternate plain and routes; the medians and their ratios are printed:
# max requests/s (closed loop, wrk) and the pair's CPU at a fixed rate (oha), the cost per
# request whatever the machine's spare capacity.
#
# With --policies the second variant is "policies" instead: the client's calls to the server
# under an OSM Retry policy (503 retried twice, 1 s per try) and an UpstreamTrafficSetting
# (maxRequests 1000, maxPendingRequests 100, connectTimeout 1 s), none of which the load
# trips (bench/proxy/client-policies.snapshot.json): what the policies cost a call that
# succeeds at once (its head copied for a retry, a budget deposit, a breaker slot).
#
# Usage: bench/proxy/routes.sh [-d 5s] [-n 3] [-r 5000] [--proxy-bin PATH] [--policies]
# Needs what scripts/bench-proxy.sh installs (wrk, oha, nginx, openssl); run that once first.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration=5s rounds=3 rate=5000 proxy_bin="" second=routes
while [ $# -gt 0 ]; do
  case "$1" in
    --policies) second=policies; shift ;;
    -d) duration="$2"; shift 2 ;;
    -n) rounds="$2"; shift 2 ;;
    -r) rate="$2"; shift 2 ;;
    --proxy-bin) proxy_bin="$2"; shift 2 ;;
    *) echo "routes.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
if [ -z "$proxy_bin" ]; then
  (cd "$root" && cargo build --release --quiet -p meshcd-proxy --bin meshcd-proxy)
  proxy_bin="$CARGO_TARGET_DIR/release/meshcd-proxy"
fi
export MESHCD_PROXY_BIN="$proxy_bin"
export OHA_BIN="${OHA_BIN:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}"
for tool in wrk nginx openssl "$OHA_BIN"; do
  command -v "$tool" >/dev/null || { echo "routes.sh: $tool missing (run scripts/bench-proxy.sh once)" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/bench-routes.XXXXXX")"
trap 'rm -rf "$work"' EXIT
printf 'variant\tmax_rps\tcpu_rate\terrors\n' >"$work/all.tsv"
for round in $(seq 1 "$rounds"); do
  for variant in plain "$second"; do
    snapshot=client.snapshot.json
    [ "$variant" != plain ] && snapshot="client-$variant.snapshot.json"
    export MESHCD_BENCH_CLIENT_SNAPSHOT="$snapshot"
    export MESHCD_BENCH_DIR="$work/$variant-$round"
    mkdir -p "$MESHCD_BENCH_DIR"; chmod 700 "$MESHCD_BENCH_DIR"
    echo "round $round: $variant" >&2
    "$root/bench/proxy-peers.sh" -d "$duration" -r "$rate" -w 2s --only extra-pair \
      --wait-quiet 60 --out "$work/raw-$variant-$round" \
      --extra-pair-cmd "$here/meshcd-side.sh client" "$here/meshcd-side.sh server" \
      --extra-pair-name meshcd-pair >"$work/log-$variant-$round" 2>&1 ||
      { cat "$work/log-$variant-$round" >&2; exit 1; }
    awk -F'\t' -v v="$variant" 'NR > 1 && $2 == "meshcd-pair" { print v "\t" $3 "\t" $12 "\t" $5 + $11 }' \
      "$work/raw-$variant-$round/results.tsv" >>"$work/all.tsv"
  done
done

echo
echo "| variant | max requests/s (median of $rounds) | pair CPU at $rate/s, cores (median) |"
echo "| --- | --- | --- |"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A rps cpu
for variant in plain "$second"; do
  rps[$variant]="$(awk -F'\t' -v v="$variant" '$1 == v { print $2 }' "$work/all.tsv" | median)"
  cpu[$variant]="$(awk -F'\t' -v v="$variant" '$1 == v { print $3 }' "$work/all.tsv" | median)"
  echo "| $variant | ${rps[$variant]} | ${cpu[$variant]} |"
done
# A failed request (the route table refused by the proxy, a rule not matching) voids the run.
errors="$(awk -F'\t' 'NR > 1 { e += $4 } END { print e + 0 }' "$work/all.tsv")"
[ "$errors" = 0 ] || { echo "routes.sh: $errors failed requests; the figures do not count" >&2; exit 1; }
awk -v n="$second" -v a="${rps[$second]}" -v b="${rps[plain]}" -v c="${cpu[$second]}" -v d="${cpu[plain]}" 'BEGIN {
  target = (n == "routes") ? " (target >= 0.95)" : ""
  printf "\n%s/plain: throughput %.3f%s, CPU per request %.3f\n", n, a / b, target, c / d }'
