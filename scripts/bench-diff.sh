#!/usr/bin/env bash
# Benchmark (not a test): wall time and peak memory of `meshcd diff BASE HEAD` on a Git
# repository of the generated 10,000-service config (see scripts/bench-validate.sh and
# reconciler/examples/generate_large_repo.rs) whose HEAD changes one policy: one
# TrafficTarget drops its `write` route. For a ratio against a peer measured in the same
# run, `meshcd validate` on the same tree is timed too (diff runs that pipeline twice).
#
#   scripts/bench-diff.sh            # SERVICES=10000 RUNS=3 by default
#   SERVICES=20000 RUNS=5 scripts/bench-diff.sh
#
# Target on the project's 2-core machine: under 3 s. The script reports each run and the
# worst one, and exits non-zero when the worst run misses the target, when diff fails, or
# when it does not report exactly the one policy's effect.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meshcd-target}"
services="${SERVICES:-10000}"
runs="${RUNS:-3}"
target_seconds="3.0"

# GNU time reports the peak resident set size; the shell builtin does not.
if [[ ! -x /usr/bin/time ]]; then
    echo "bench-diff: installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

cargo build --release --quiet -p meshcd --bin meshcd --example generate_large_repo
meshcd="$CARGO_TARGET_DIR/release/meshcd"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
"$CARGO_TARGET_DIR/release/examples/generate_large_repo" "$repo" --services "$services"
git() { command git -C "$repo" -c user.name=bench -c user.email=bench@example.com "$@"; }
git init -q -b main
git add .
git commit -q -m "base: $services services"
# HEAD: the first service's TrafficTarget no longer grants its write route.
policy="$repo/team-000/services-000.yaml"
grep -q 'matches: \[read, write, health\]' "$policy"
sed -i '0,/matches: \[read, write, health\]/s//matches: [read, health]/' "$policy"
git commit -q -am "one policy: drop a write route"
echo "repository: $(du -sh --exclude=.git "$repo" | cut -f1) of YAML on $(nproc) cores;" \
    "HEAD changes $(git diff --shortstat HEAD~1 HEAD | sed 's/^ *//')"

# Prints "SECONDS KIB" of one run of meshcd with the given arguments; its output in $work/output.
measure() {
    local status=0
    /usr/bin/time -v -o "$work/time" "$meshcd" "$@" >"$work/output" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        tail -n 20 "$work/output" >&2
        echo "bench-diff: meshcd $1 exited $status" >&2
        exit 1
    fi
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23"
    local elapsed kib
    elapsed="$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$work/time")"
    kib="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")"
    awk -F: -v kib="$kib" '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f %d\n", s, kib }' <<<"$elapsed"
}

worst_seconds=0
worst_kib=0
worst_validate=0
for run in $(seq 1 "$runs"); do
    read -r seconds kib < <(measure diff HEAD~1 HEAD --repo "$repo")
    summary="$(tail -n 1 "$work/output")"
    if [[ ! $summary =~ ^summary:\ [0-9]+\ access\ rows?\ newly\ denied$ ]]; then
        cat "$work/output" >&2
        echo "bench-diff: expected only the one policy's effect (rows denied), got: $summary" >&2
        exit 1
    fi
    read -r validate_seconds validate_kib < <(measure validate "$repo")
    printf 'run %d: diff %s s wall, %d MiB peak RSS (%s); validate %s s, %d MiB\n' \
        "$run" "$seconds" $((kib / 1024)) "$summary" "$validate_seconds" $((validate_kib / 1024))
    worst_seconds="$(awk -v a="$worst_seconds" -v b="$seconds" 'BEGIN { print (b > a) ? b : a }')"
    worst_validate="$(awk -v a="$worst_validate" -v b="$validate_seconds" 'BEGIN { print (b > a) ? b : a }')"
    ((kib > worst_kib)) && worst_kib=$kib
done

verdict="meets"
if awk -v s="$worst_seconds" -v t="$target_seconds" 'BEGIN { exit !(s >= t) }'; then
    verdict="misses"
fi
ratio="$(awk -v d="$worst_seconds" -v v="$worst_validate" 'BEGIN { printf "%.2f", (v > 0) ? d / v : 0 }')"
echo "meshcd diff, $services services ($((services * 5)) SMI objects), one policy changed:" \
    "worst of $runs runs ${worst_seconds} s, $((worst_kib / 1024)) MiB;" \
    "${ratio}x validate's worst (${worst_validate} s); $verdict the target (< ${target_seconds} s)"
[[ $verdict == meets ]]
