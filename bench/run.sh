#!/usr/bin/env bash
# Runs every benchmark and rebuilds bench/RESULTS.md from their reports.
#   bench/run.sh            all of them (needs the dev stack for the end-to-end ones)
#   bench/run.sh NAME...    only bench/NAME.sh or bin/bench_NAME
# Each benchmark script bench/<name>.sh writes bench/results/<name>.md from a real run;
# standalone C benchmarks bin/bench_<name> print their own report, captured the same way.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$repo"
mkdir -p bench/results
deploy/dev/stack.sh up >/dev/null

run_one() {
    local name=$1
    if [ -x "bench/$name.sh" ]; then
        echo "== bench/$name.sh"
        "bench/$name.sh"
    elif [ -x "bin/bench_$name" ]; then
        echo "== bin/bench_$name"
        {
            printf '## %s\n\nMeasured %s on %s (%s cores), `bin/bench_%s`:\n\n```\n' "$name" \
                "$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -m)" "$(nproc)" "$name"
            "bin/bench_$name"
            printf '```\n'
        } | tee "bench/results/$name.md"
    else
        echo "bench/run.sh: no benchmark named $name" >&2
        return 1
    fi
}

if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for f in bench/*.sh; do
        n=$(basename "$f" .sh)
        [ "$n" = run ] || names+=("$n")
    done
fi
for n in "${names[@]}"; do
    run_one "$n"
done

{
    echo "# Benchmark results"
    echo
    echo "Every figure below comes from a real run of \`make bench\` (or the script named in"
    echo "its section) on the project's 2-core machines; each section says when it was measured."
    for f in bench/results/*.md; do
        [ -e "$f" ] || continue
        echo
        cat "$f"
    done
} >bench/RESULTS.md
echo "bench/RESULTS.md rebuilt from bench/results/"
