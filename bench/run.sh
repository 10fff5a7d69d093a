#!/usr/bin/env bash
# Runs every benchmark and rebuilds bench/RESULTS.md from their reports.
#   bench/run.sh            all of them (needs the dev stack for the end-to-end ones)
#   bench/run.sh NAME...    only bench/NAME.sh or bin/bench_NAME
#   bench/run.sh --assemble only rebuild bench/RESULTS.md from bench/results/*.md
# Each benchmark script bench/<name>.sh writes bench/results/<name>.md from a real run; a C
# benchmark without a script (bin/bench_<name>) prints its report, kept in
# bench/results/raw/<name>.txt. bench/results/*.md are the curated write-ups (figures from
# real runs, the conditions, and what they mean) that make up bench/RESULTS.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$repo"
mkdir -p bench/results

assemble() {
    {
        echo "# Benchmark results"
        echo
        echo "Every figure below comes from a real run of the benchmark named in its section"
        echo "(\`make bench\` runs them all) on the project's 2-core machines, shared with the"
        echo "broker, the database and the load generator; each section says when and how."
        for f in bench/results/*.md; do
            [ -e "$f" ] || continue
            echo
            cat "$f"
        done
    } >bench/RESULTS.md
    echo "bench/RESULTS.md rebuilt from bench/results/"
}

if [ "${1:-}" = "--assemble" ]; then
    assemble
    exit 0
fi
deploy/dev/stack.sh up >/dev/null

run_one() {
    local name=$1
    if [ -x "bench/$name.sh" ]; then
        echo "== bench/$name.sh"
        "bench/$name.sh"
    elif [ -x "bin/bench_$name" ]; then
        echo "== bin/bench_$name"
        mkdir -p bench/results/raw
        {
            printf '# bin/bench_%s, %s, %s cores\n' "$name" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)"
            "bin/bench_$name"
        } | tee "bench/results/raw/$name.txt"
    else
        echo "bench/run.sh: no benchmark named $name" >&2
        return 1
    fi
}

if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    scripted=" "
    for f in bench/*.sh; do
        n=$(basename "$f" .sh)
        [ "$n" = run ] && continue
        names+=("$n")
        scripted+="$(grep -o 'bench_[a-z_]*' "$f" | tr '\n' ' ') "
    done
    for b in bin/bench_*; do
        [ -x "$b" ] || continue
        n=$(basename "$b")
        case $scripted in *" $n "*) continue ;; esac
        names+=("${n#bench_}")
    done
fi
for n in "${names[@]}"; do
    run_one "$n"
done

assemble
