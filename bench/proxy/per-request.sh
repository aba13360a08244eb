#!/usr/bin/env bash
# per-request.sh - what one proxied request costs the proxy, in figures that do not depend on
# how busy the machine is: system calls (by name), context switches and CPU time per request,
# for meshcd-proxy's one-hop path and nginx as a one-hop reverse proxy, same upstream, same
# pinning as bench/proxy-peers.sh (proxies on cpu 0; upstream nginx and wrk on cpu 1).
#
# Usage: bench/proxy/per-request.sh [-d 5s] [-c 64] [-n 3] [--no-nginx] [--instructions] [LABEL=BIN ...]
#   LABEL=BIN   a meshcd-proxy binary to measure under that label (several may be compared in
#               one session); default: meshcd=$CARGO_TARGET_DIR/release/meshcd-proxy
#   -d          wrk duration per measured run (default 5s)
#   -c          connections (default 64)
#   -n          rounds; targets alternate within a round, the median per figure is printed
#   --instructions  instead: user-space instructions per request, each proxy run under
#               valgrind's callgrind (exact counts whatever the machine's load; the proxies
#               run ~50x slower, so use -d 10s or more and -n 1)
#
# How: `perf stat -p PID` counts the proxy's syscall tracepoints, context switches and
# task-clock while wrk runs; wrk's request count divides them. The proxy is otherwise idle,
# so the counts belong to wrk's requests (connection set-up included, ~64 over 100k+
# requests). CPU time per request still varies a little with cache pressure from other
# processes; system calls and context switches per request do not.
# Needs: perf (linux-perf), wrk, nginx, openssl; root for the tracepoints; valgrind for
# --instructions. For where the instructions go, build with
# CARGO_PROFILE_RELEASE_DEBUG=line-tables-only and read the callgrind files (kept with
# PER_REQUEST_KEEP=DIR) with callgrind_annotate.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration=5s conns=64 rounds=3 with_nginx=1 instructions=0
declare -a labels=() bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    -d) duration="$2"; shift 2 ;;
    -c) conns="$2"; shift 2 ;;
    -n) rounds="$2"; shift 2 ;;
    --no-nginx) with_nginx=0; shift ;;
    --instructions) instructions=1; shift ;;
    *=*) labels+=("${1%%=*}"); bins+=("${1#*=}"); shift ;;
    *) echo "per-request.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ${#labels[@]} -eq 0 ]; then
  labels=(meshcd); bins=("${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}/release/meshcd-proxy")
fi
for bin in "${bins[@]}"; do [ -x "$bin" ] || { echo "per-request.sh: no binary $bin" >&2; exit 1; }; done

port_base="${PER_REQUEST_PORT_BASE:-28080}"
up_port=$port_base nginx_port=$((port_base + 1))
work="$(mktemp -d "${TMPDIR:-/tmp}/per-request.XXXXXX")"
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${PER_REQUEST_KEEP:-}" ]; then mkdir -p "$PER_REQUEST_KEEP"; cp "$work"/callgrind.* "$PER_REQUEST_KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

body="$(head -c 128 /dev/zero | tr '\0' 'x')"
nginx_conf() { # prefix server-block
  mkdir -p "$1"
  cat <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $1/nginx.pid;
error_log $1/error.log;
worker_rlimit_nofile 16384;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  server_tokens off;
  keepalive_timeout 75s;
  keepalive_requests 10000000;
  client_body_temp_path $1/client_body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
$2
}
EOF
}
nginx_conf "$work/upstream" "  server { listen 127.0.0.1:$up_port backlog=4096;
    location / { default_type text/plain; return 200 \"$body\"; } }" >"$work/upstream.conf"
nginx_conf "$work/nginx" "  upstream app { server 127.0.0.1:$up_port; keepalive 256;
    keepalive_requests 10000000; keepalive_timeout 75s; }
  server { listen 127.0.0.1:$nginx_port backlog=4096;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }" \
  >"$work/nginx.conf"

start() { # cpus command... (sets $started)
  local cpus="$1"; shift
  taskset -c "$cpus" "$@" >>"$work/out.log" 2>&1 &
  started=$!
  pids+=("$started")
}
wait_port() {
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "per-request.sh: nothing answers on port $1; see $work/out.log" >&2; exit 1
}

wrap=""
if [ "$instructions" = 1 ]; then
  wrap="valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=$work/callgrind.%p"
fi
start 1 nginx -e "$work/upstream/error.log" -p "$work/upstream" -c "$work/upstream.conf"
wait_port "$up_port"

declare -A pid_of=() port_of=()
targets=()
if [ "$with_nginx" = 1 ]; then
  start 0 $wrap nginx -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx.conf"
  pid_of[nginx]=$started port_of[nginx]=$nginx_port
  targets+=(nginx)
  wait_port "$nginx_port"
fi

"$root/bench/proxy-peers.sh" --make-certs "$work/pki" >/dev/null
for i in "${!labels[@]}"; do
  if [ "$instructions" = 1 ]; then # meshcd-side.sh execs $MESHCD_PROXY_BIN: make that valgrind
    printf '#!/bin/sh\nexec %s %q "$@"\n' "$wrap" "${bins[$i]}" >"$work/valgrind-${labels[$i]}"
    chmod +x "$work/valgrind-${labels[$i]}"
    bins[$i]="$work/valgrind-${labels[$i]}"
  fi
  label="${labels[$i]}" port=$((port_base + 10 + i))
  mkdir -p "$work/$label" && chmod 700 "$work/$label"
  start 0 env MESHCD_PROXY_BIN="${bins[$i]}" MESHCD_BENCH_DIR="$work/$label" \
    PEERS_LISTEN_ADDR="127.0.0.1:$port" PEERS_UPSTREAM_ADDR="127.0.0.1:$up_port" \
    MESHCD_BENCH_ONE_HOP_ID="spiffe://cluster.local/ns/default/sa/server" \
    MESHCD_BENCH_ONE_HOP_CERT="$work/pki/server.pem" MESHCD_BENCH_ONE_HOP_KEY="$work/pki/server.key" \
    MESHCD_BENCH_ONE_HOP_CA="$work/pki/ca.pem" "$here/meshcd-side.sh" one-hop
  pid_of[$label]=$started port_of[$label]=$port
  targets+=("$label")
  wait_port "$port"
done

syscalls=(read recvfrom write writev sendto epoll_wait epoll_ctl futex getsockopt)
events="task-clock,context-switches,raw_syscalls:sys_enter"
for s in "${syscalls[@]}"; do events+=",syscalls:sys_enter_$s"; done

cpu_ticks() { # pid -> "utime stime" in clock ticks, all threads (fields 14 and 15 of /proc/PID/stat)
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12, $13}'
}

measure_instructions() { # target round -> "target round instructions value-per-request"
  local target="$1" round="$2" pid="${pid_of[$1]}" port="${port_of[$1]}" requests total
  taskset -c 1 wrk -t1 -c "$conns" -d 2s "http://127.0.0.1:$port/" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  taskset -c 1 wrk -t1 -c "$conns" -d "$duration" "http://127.0.0.1:$port/" >"$work/wrk-$target-$round.txt"
  callgrind_control -d "$pid" >/dev/null 2>&1
  requests="$(awk '/requests in/ {print $1}' "$work/wrk-$target-$round.txt")"
  total="$(callgrind_annotate "$(ls -t "$work/callgrind.$pid".* | head -1)" 2>/dev/null |
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
  echo "$target $round instructions $((total / requests))" >>"$work/results.txt"
  echo "$target round $round: $requests requests, $((total / requests)) instructions each" >&2
}

measure() { # target round -> appends "target round name value-per-request" lines
  local target="$1" round="$2" pid="${pid_of[$1]}" port="${port_of[$1]}" requests
  taskset -c 1 wrk -t1 -c "$conns" -d 1s "http://127.0.0.1:$port/" >/dev/null
  perf stat -x, -e "$events" -p "$pid" -o "$work/perf-$target-$round.csv" &
  local perf=$!
  sleep 0.2
  local before after
  before="$(cpu_ticks "$pid")"
  taskset -c 1 wrk -t1 -c "$conns" -d "$duration" "http://127.0.0.1:$port/" >"$work/wrk-$target-$round.txt"
  after="$(cpu_ticks "$pid")"
  sleep 0.2
  kill -INT "$perf"; wait "$perf" || true
  requests="$(awk '/requests in/ {print $1}' "$work/wrk-$target-$round.txt")"
  read -r user0 system0 <<<"$before"
  read -r user1 system1 <<<"$after"
  awk -v t="$target" -v r="$round" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    -v u=$((user1 - user0)) -v s=$((system1 - system0)) 'BEGIN {
      printf "%s %s user-us %.4f\n%s %s system-us %.4f\n", t, r, u * 1e6 / hz / n, t, r, s * 1e6 / hz / n }' \
    >>"$work/results.txt"
  awk -F, -v t="$target" -v r="$round" -v n="$requests" '
    /^[0-9.]/ { name = $3; sub(/^.*sys_enter_?/, "", name); if (name == "") name = "syscalls";
                if ($3 == "task-clock") { name = "cpu-us"; $1 = $1 * 1000 }   # msec -> usec
                printf "%s %s %s %.4f\n", t, r, name, $1 / n }
    END { printf "%s %s rps %.0f\n", t, r, n / 1 }' "$work/perf-$target-$round.csv" >>"$work/results.txt"
  grep -E "Requests/sec|requests in" "$work/wrk-$target-$round.txt" | tr -s ' ' | paste -sd' ' |
    sed "s/^/$target round $round: /" >&2
}

for round in $(seq "$rounds"); do
  for target in "${targets[@]}"; do
    if [ "$instructions" = 1 ]; then measure_instructions "$target" "$round"; else measure "$target" "$round"; fi
  done
done

# Median per (target, figure); "rps" holds the request count of each run.
echo "per request (median over $rounds rounds; $conns connections, ${duration} each; syscalls by name):"
awk '{ key = $1 " " $3; v[key] = v[key] " " $4; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  END { for (i = 1; i <= n; i++) { split(v[order[i]], a, " "); m = length(a);
          for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
          printf "%s %s\n", order[i], a[int((m + 1) / 2)] } }' "$work/results.txt" |
  awk '{ fig[$2] = 1; val[$1, $2] = $3; if (!($1 in tseen)) { tseen[$1] = 1; tl[++nt] = $1 } }
    END { printf "%-12s", "figure"; for (i = 1; i <= nt; i++) printf " %12s", tl[i]; print "";
          split("instructions cpu-us user-us system-us context-switches syscalls read recvfrom write writev sendto epoll_wait epoll_ctl futex getsockopt rps", f, " ");
          for (j = 1; j in f; j++) { if (!(f[j] in fig)) continue; printf "%-12s", (f[j] == "rps" ? "requests" : f[j]);
            for (i = 1; i <= nt; i++) printf " %12s", val[tl[i], f[j]]; print "" } }'
