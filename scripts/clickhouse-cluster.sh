#!/usr/bin/env bash
# A two-shard ClickHouse cluster on loopback for tests, CI and trying `crm run --source` (issue #13).
#
#   scripts/clickhouse-cluster.sh start [--customers N] [--seed S]   two servers, tables, a generated data set
#   scripts/clickhouse-cluster.sh start --file TRANSACTIONS.csv      the same with a transactions file of yours
#   scripts/clickhouse-cluster.sh status                             running or not, the source URL
#   scripts/clickhouse-cluster.sh stop                               both servers stopped, the folder removed
#
# Two plain clickhouse-server processes (Debian's 18.16 works), each with its own config and data
# folder under $CRM_CLICKHOUSE_CLUSTER_DIR (default: a folder in $TMPDIR): no root service, no
# ZooKeeper. Both know the cluster `crm_cluster` (shard 1 = server 1, shard 2 = server 2). Each
# holds crm.transactions_local (MergeTree); crm.transactions is a Distributed table over them,
# sharded by customer (cityHash64(customer_id)), so every customer's lines are on one shard.
#
# `start` generates transactions with crm's own generator (`crm generate`), loads them into a
# local crm store (`crm ingest`: cleaned exactly as a local run reads them) and copies the store's
# transactions into crm.transactions (dist/scripts/clickhouse-load.js). The store stays in the
# folder (store.duckdb), so a local run and a cluster run can be compared on the same lines.
# With --file, that file is ingested instead of generated data (e.g. the bench's 9.8M lines,
# docs/scale.md).
# Prints KEY=VALUE lines (source, store, pids) and writes them to $DIR/cluster.env.
# Needs the built CLI (npm run build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${CRM_CLICKHOUSE_CLUSTER_DIR:-${TMPDIR:-/tmp}/crm-clickhouse-cluster}"
SERVER="${CRM_CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}"
CRM="node $ROOT/dist/cli.js"

die() { echo "clickhouse-cluster: $*" >&2; exit 1; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Ended: no such process, or a zombie its parent (init, in some containers) has not reaped yet.
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

running() { [ -f "$DIR/cluster.env" ] && . "$DIR/cluster.env" && ! gone "$PID1" && ! gone "$PID2"; }

write_config() { # $1 = shard number, $2 = http port, $3 = tcp port
  local d="$DIR/shard$1"
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas"
  cat > "$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>error</level><log>$d/server.log</log><errorlog>$d/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$2</http_port>
  <tcp_port>$3</tcp_port>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <timezone>UTC</timezone>
  <users_config>$DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <remote_servers>
    <crm_cluster>
      <shard><replica><host>127.0.0.1</host><port>$TCP1</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$TCP2</port></replica></shard>
    </crm_cluster>
  </remote_servers>
</yandex>
XML
}

query() { # $1 = http port, $2 = SQL (the POST body)
  local out
  if ! out=$(curl -sS --fail-with-body -X POST --data-binary "$2" "http://127.0.0.1:$1/" 2>&1); then die "query on port $1 failed: $out"; fi
  printf '%s' "$out"
}

wait_ready() { # $1 = http port, $2 = pid
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1/ping" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || die "clickhouse-server on port $1 exited: $(tail -5 "$DIR"/shard*/error.log 2>/dev/null)"
    sleep 0.1
  done
  die "clickhouse-server on port $1 did not answer in 30 s"
}

start() {
  local customers=2000 seed=7 file=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --customers) customers="$2"; shift 2 ;;
      --seed) seed="$2"; shift 2 ;;
      --file) file="$2"; shift 2 ;;
      *) die "unknown option $1 (start [--customers N] [--seed S] | [--file TRANSACTIONS.csv])" ;;
    esac
  done
  running && die "already running (stop it first): $DIR"
  [ -x "$SERVER" ] || die "clickhouse-server not found at $SERVER (apt-get install clickhouse-server clickhouse-client)"
  [ -f "$ROOT/dist/cli.js" ] || die "build first: npm run build"
  [ -z "$file" ] || [ -f "$file" ] || die "no such file: $file"
  [ -z "$file" ] || file="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
  rm -rf "$DIR"; mkdir -p "$DIR"
  HTTP1=$(free_port); TCP1=$(free_port); HTTP2=$(free_port); TCP2=$(free_port)
  cat > "$DIR/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
  write_config 1 "$HTTP1" "$TCP1"
  write_config 2 "$HTTP2" "$TCP2"
  # --daemon: each server detaches (no root service, no terminal) and writes its own pid file,
  # which stop reads.
  "$SERVER" --config-file="$DIR/shard1/config.xml" --pid-file="$DIR/shard1/pid" --daemon >/dev/null 2>&1 < /dev/null
  "$SERVER" --config-file="$DIR/shard2/config.xml" --pid-file="$DIR/shard2/pid" --daemon >/dev/null 2>&1 < /dev/null
  for _ in $(seq 1 100); do [ -s "$DIR/shard1/pid" ] && [ -s "$DIR/shard2/pid" ] && break; sleep 0.05; done
  PID1=$(cat "$DIR/shard1/pid"); PID2=$(cat "$DIR/shard2/pid")
  cat > "$DIR/cluster.env" <<ENV
PID1=$PID1
PID2=$PID2
HTTP1=$HTTP1
HTTP2=$HTTP2
TCP1=$TCP1
TCP2=$TCP2
SOURCE=clickhouse://127.0.0.1:$HTTP1/crm.transactions
STORE=$DIR/store.duckdb
ENV
  wait_ready "$HTTP1" "$PID1"; wait_ready "$HTTP2" "$PID2"
  for port in "$HTTP1" "$HTTP2"; do
    query "$port" "CREATE DATABASE IF NOT EXISTS crm" >/dev/null
    query "$port" "CREATE TABLE crm.transactions_local (customer_id String, order_id Nullable(String), order_date Date, amount Decimal(18, 4), is_return UInt8, cost Nullable(Decimal(18, 4))) ENGINE = MergeTree() PARTITION BY toYYYYMM(order_date) ORDER BY (customer_id, order_date)" >/dev/null
    query "$port" "CREATE TABLE crm.transactions AS crm.transactions_local ENGINE = Distributed(crm_cluster, crm, transactions_local, cityHash64(customer_id))" >/dev/null
  done
  if [ -z "$file" ]; then
    $CRM generate --customers "$customers" --seed "$seed" --dirty-share 0 --out "$DIR/data" >"$DIR/generate.log" 2>&1 || die "crm generate failed: $(tail -3 "$DIR/generate.log")"
    file="$DIR/data/transactions.csv"
  fi
  $CRM --db "$DIR/store.duckdb" ingest transactions "$file" >"$DIR/ingest.log" 2>&1 || die "crm ingest failed: $(tail -3 "$DIR/ingest.log")"
  node "$ROOT/dist/scripts/clickhouse-load.js" "$DIR/store.duckdb" "http://127.0.0.1:$HTTP1" crm.transactions
  cat "$DIR/cluster.env"
}

status() {
  if running; then
    echo "running"; cat "$DIR/cluster.env"
    for port in "$HTTP1" "$HTTP2"; do echo "shard on $port: $(query "$port" "SELECT count() FROM crm.transactions_local") lines"; done
  else
    echo "stopped"; return 3
  fi
}

stop() {
  if [ -f "$DIR/cluster.env" ]; then
    . "$DIR/cluster.env"
    # Throwaway data: no graceful shutdown (SIGTERM waits seconds for merges).
    for pid in "$PID1" "$PID2"; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in "$PID1" "$PID2"; do
      for _ in $(seq 1 200); do gone "$pid" && break; sleep 0.05; done
    done
  fi
  rm -rf "$DIR"
  echo "stopped"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--customers N] [--seed S] | start --file TRANSACTIONS.csv | status | stop" >&2; exit 2 ;;
esac
