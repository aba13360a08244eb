#!/usr/bin/env bash
# Benchmark (not a test): wall time and peak memory of `meshcd validate` on a generated
# config repository whose policies cover 10,000 services (50,000 SMI objects in ~100
# namespaces and ~1,100 files; see reconciler/examples/generate_large_repo.rs).
#
#   scripts/bench-validate.sh            # SERVICES=10000 RUNS=3 by default
#   SERVICES=20000 RUNS=5 scripts/bench-validate.sh
#
# Target on the project's 2-core machine: under 2 s and under 300 MiB. The script reports
# each run and the worst one, and exits non-zero when the worst run misses the target or
# the generated repository does not validate.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
services="${SERVICES:-10000}"
runs="${RUNS:-3}"
target_seconds="2.0"
target_mib="300"

# GNU time reports the peak resident set size; the shell builtin does not.
if [[ ! -x /usr/bin/time ]]; then
    echo "bench-validate: installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

cargo build --release --quiet -p meshcd --bin meshcd --example generate_large_repo
meshcd="$CARGO_TARGET_DIR/release/meshcd"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$CARGO_TARGET_DIR/release/examples/generate_large_repo" "$work/repo" --services "$services"
echo "repository: $(du -sh "$work/repo" | cut -f1) of YAML on $(nproc) cores"

worst_seconds=0
worst_kib=0
for run in $(seq 1 "$runs"); do
    status=0
    /usr/bin/time -v -o "$work/time" "$meshcd" validate "$work/repo" >"$work/output" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        tail -n 20 "$work/output"
        echo "bench-validate: meshcd validate exited $status on the generated repository" >&2
        exit 1
    fi
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23"
    elapsed="$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$work/time")"
    seconds="$(awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$elapsed")"
    kib="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")"
    printf 'run %d: %s s wall, %d MiB peak RSS (%s)\n' "$run" "$seconds" $((kib / 1024)) "$(tail -n 1 "$work/output")"
    worst_seconds="$(awk -v a="$worst_seconds" -v b="$seconds" 'BEGIN { print (b > a) ? b : a }')"
    ((kib > worst_kib)) && worst_kib=$kib
done

worst_mib=$((worst_kib / 1024))
verdict="meets"
if awk -v s="$worst_seconds" -v t="$target_seconds" 'BEGIN { exit !(s >= t) }' || ((worst_mib >= target_mib)); then
    verdict="misses"
fi
echo "meshcd validate, $services services ($((services * 5)) SMI objects): worst of $runs runs" \
    "${worst_seconds} s, ${worst_mib} MiB; $verdict the target (< ${target_seconds} s, < ${target_mib} MiB)"
[[ $verdict == meets ]]
