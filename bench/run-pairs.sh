#!/usr/bin/env bash
# `crm run` of two builds on copies of one store, alternated, with DuckDB's bare per-customer
# summary in each round (bench/measure.ts): the ratios issue #9 §2 asks for, on a shared machine.
#   bench/run-pairs.sh STORE BASE_CLI NEW_CLI ROUNDS WORKDIR
# Prints one line per command (seconds, CPU seconds, peak RSS, load average) and leaves each side's last store
# (WORKDIR/base.duckdb, WORKDIR/new.duckdb) and --json output for bench/compare-runs.ts.
set -euo pipefail
store=$1 base=$2 new=$3 rounds=${4:-3} work=${5:-.}
measure="$(dirname "$new")/bench/measure.js"
mkdir -p "$work"
for r in $(seq 1 "$rounds"); do
  cp "$store" "$work/summary.duckdb"
  echo "round $r summary $(node "$measure" duckdb-summary "$work/summary.duckdb" | tail -1) load $(cut -d' ' -f1-3 /proc/loadavg)"
  for side in base new; do
    cli=$base; [ "$side" = new ] && cli=$new
    cp "$store" "$work/$side.duckdb"
    /usr/bin/time -f "%e %M %U %S" -o "$work/$side.time" node "$cli" run --db "$work/$side.duckdb" --json --quiet > "$work/$side.$r.json"
    read -r secs kb user sys < "$work/$side.time"
    echo "round $r $side ${secs} s (CPU $(echo "$user + $sys" | bc) s), peak $((kb / 1024)) MB, load $(cut -d' ' -f1-3 /proc/loadavg), steps $(node -e 'const t=require(process.argv[1]).timings_ms; console.log(JSON.stringify(t))' "$work/$side.$r.json")"
  done
done
