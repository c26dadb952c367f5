#!/usr/bin/env bash
# The README's first command, after the build (tools/quickstart.sh demo): start pgingest's own
# local server, generate a sample of each kind of data, load each with `pgingest load`, run the
# codec benchmarks briefly and load their JSON report too, then show what the server holds.
# Needs nothing of ../shared. Run from the repository root with build/ built.
set -euo pipefail
cd "$(dirname "$0")/.."

pgingest=./build/pgingest
bench=./build/bench/pgingest_bench
work=$(mktemp -d /tmp/pgingest-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== pgingest local start"
start=$("$pgingest" local start)
echo "$start"
db=$(printf '%s\n' "$start" | sed -n 's/^ *conninfo: *//p' | tail -n 1)
if [ -z "$db" ]; then
    echo "demo: could not read the local server's conninfo from 'pgingest local start'" >&2
    exit 1
fi
sql() { PGOPTIONS="-c client_min_messages=warning" psql "$db" -X -q -v ON_ERROR_STOP=1 "$@"; }

load_kind() {  # load_kind KIND ROWS [generate flags...]
    local kind=$1 rows=$2
    shift 2
    local file="$work/$kind.ndjson" table="demo_$kind"
    echo
    echo "== pgingest generate $kind --rows $rows --seed 1 $*; pgingest load --table $table"
    "$pgingest" generate "$kind" --rows "$rows" --seed 1 "$@" -o "$file"
    sql -c "DROP TABLE IF EXISTS $table"
    "$pgingest" generate "$kind" --schema --table "$table" "$@" | sql
    "$pgingest" load --db "$db" --table "$table" "$file"
}

load_kind spans 10000
load_kind events 100000
load_kind snapshots 8 --snapshot-bytes-max 2000000
load_kind vectors 2000

echo
echo "== pgingest_bench (briefly) --benchmark_format=json; pgingest load --pointer /benchmarks"
"$bench" --benchmark_min_time=0.01 --benchmark_filter='vector|halfvec|jsonb|tuple' \
    --benchmark_format=json > "$work/bench.json" 2> "$work/bench.log"
sql -c "DROP TABLE IF EXISTS demo_benchmarks" -c "CREATE TABLE demo_benchmarks (
    id bigserial PRIMARY KEY, name text NOT NULL, run_type text, iterations int8,
    real_time float8, cpu_time float8, time_unit text, bytes_per_second float8, rest jsonb)"
"$pgingest" load --db "$db" --table demo_benchmarks --pointer /benchmarks --rest-column rest \
    "$work/bench.json"

echo
echo "== what the server holds"
sql -c "SELECT relname AS table, n_live_tup AS rows,
               pg_size_pretty(pg_total_relation_size(relid)) AS size
        FROM pg_stat_user_tables WHERE relname LIKE 'demo\_%' ORDER BY relname" \
    -c "SELECT name, round((bytes_per_second / 1e9)::numeric, 2) AS gb_per_s FROM demo_benchmarks
        WHERE bytes_per_second IS NOT NULL ORDER BY bytes_per_second DESC LIMIT 5"
echo "Connect with: psql \"$db\"    Stop the server with: $pgingest local stop"
