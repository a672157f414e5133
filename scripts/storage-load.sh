#!/usr/bin/env bash
# A storage load for measuring bytes per meter-day and PostgreSQL CPU per frame, keeping the database afterwards
# (scripts/bench.sh deletes its state at exit). Against the services of FOLDER (scripts/services.sh up FOLDER), in a
# fresh database `storage_load`: provisions METERS simulated meters, runs the gateway, publishes for SECONDS (each
# meter: one daily report of 48 half-hour points of yesterday, then readings as fast as acks allow), waits until
# every frame is stored and the validator has emptied its queue, runs VACUUM ANALYZE, then prints
#   postgres_cpu_us_per_frame  PostgreSQL CPU time (all its processes, from /proc) during ingest / frames
#   scripts/sql/storage-detail.sql and scripts/sql/bytes-per-meter-day.sql
# and then bytes per meter-day of the same rows in the v16 layout (scripts/v16-same-data.sh; V16_SAME_DATA=0 skips it).
# FIGURES=path also records both in that JSON file as `storage_daily_report` (scripts/bench_figures.py; bench.sh's
# phase 6 runs this script so, with RATE = meters / 10 over 10 s: each meter sends its daily report once).
# SECOND_LOAD=1 repeats the load for other meters after the first one's VACUUM (see the end).
# The fleet publishes at a fixed RATE (frames/s over the fleet, default 1000), so two gateways that both keep up get
# the same load (as fast as acks allow, a faster gateway would get more frames per meter, and bytes per meter
# depend on that). Check that `frames` matches between the runs you compare.
# Usage: scripts/storage-load.sh FOLDER [meters] [seconds]   (GATEWAY_BIN: default .build/release/meter-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:?usage: scripts/storage-load.sh FOLDER [meters] [seconds]}
meters=${2:-2000}
seconds=${3:-10}
rate=${RATE:-1000}
bin=${GATEWAY_BIN:-.build/release/meter-gateway}
# shellcheck disable=SC1091
source "$folder/env"
admin="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=storage_load"
PGOPTIONS='-c client_min_messages=warning' psql -q "$admin" -c "DROP DATABASE IF EXISTS storage_load" \
    -c "CREATE DATABASE storage_load" >/dev/null
state="$folder/storage-load"
rm -rf "$state" && mkdir -p "$state"
cat >"$state/gateway.toml" <<TOML
[mqtt]
port = $MQTT_PORT
client_id = "meter-gateway-storage-load"
receive_maximum = 2000
[postgres]
conninfo = "$conninfo"
[spool]
directory = "$PWD/$state/spool"
[http]
enabled = false
[validation]
delay_seconds = $((seconds + 15))
billing_day_utc_offset_minutes = 480
[log]
level = "warning"
TOML
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
    local total=0 pid postmaster
    postmaster=$(head -1 "$folder/pg/data/postmaster.pid")
    for pid in "$postmaster" $(pgrep -P "$postmaster" || true); do total=$((total + $(ticks "$pid"))); done
    echo "$total"
}
# One load: FIRST_METER_ID NAME. Provisions the fleet, runs the gateway until every frame is stored and validated.
load() {
    local fleet=(--config "$state/gateway.toml" --meters "$meters" --first-meter-id "$1")
    # Migrations and provisioning before the measured window (a gateway that migrates at start would count it).
    $bin migrate --config "$state/gateway.toml" >/dev/null
    $bin simulate --provision-only "${fleet[@]}" >/dev/null
    $bin run --config "$state/gateway.toml" 2>"$state/gateway-$2.log" &
    gateway=$!
    trap 'kill "$gateway" 2>/dev/null || true' EXIT
    sleep 2
    local pg0 pg1 generated stored0
    stored0=$(psql -tA "$conninfo" -c 'SELECT count(*) FROM uplink_frames')
    pg0=$(pg_ticks)
    $bin simulate "${fleet[@]}" --rate "$rate" --duration "$seconds" --retransmit-after 0 --drain 30 \
        --no-scripted-alarms --alarm-probability 0.001 --client-id "fleet-$2" >"$state/fleet-$2.json"
    generated=$(python3 -c "import json; print(json.load(open('$state/fleet-$2.json'))['framesGenerated'])")
    while [ "$(psql -tA "$conninfo" -c 'SELECT count(*) FROM uplink_frames')" -lt $((stored0 + generated)) ]; do
        sleep 0.2
    done
    pg1=$(pg_ticks)
    echo "== load $2: meters from $1, $generated frames"
    python3 -c "print('postgres_cpu_us_per_frame %.1f' % (($pg1 - $pg0) / $(getconf CLK_TCK) * 1e6 / $generated))"
    while [ "$(psql -tA "$conninfo" -c 'SELECT count(*) FROM validation_queue')" -gt 0 ]; do sleep 0.5; done
    kill -TERM "$gateway"
    wait "$gateway" || echo "storage-load.sh: the gateway exited with status $?" >&2
    trap - EXIT
    psql -q "$conninfo" -c 'ANALYZE' >/dev/null
    echo "-- before VACUUM (after ANALYZE): dead tuples left by validation"
    psql -X -q -f scripts/sql/storage-detail.sql "$conninfo" | grep -E "relation|heap" || true
    psql -q "$conninfo" -c 'VACUUM ANALYZE' >/dev/null
    echo "-- after VACUUM ANALYZE"
    psql -X -q -f scripts/sql/storage-detail.sql "$conninfo"
    psql -X -q -f scripts/sql/bytes-per-meter-day.sql "$conninfo"
}
# The same rows in the v16 layout (scripts/v16-same-data.sh), measured by the same SQL: before and after on one load.
same_data_v16() {
    local v16_conninfo
    v16_conninfo=$(GATEWAY_BIN=$bin scripts/v16-same-data.sh "$state/gateway.toml")
    echo "-- the same rows in the v16 layout (scripts/v16-same-data.sh)"
    psql -X -q -f scripts/sql/bytes-per-meter-day.sql "$v16_conninfo" | sed 's/^bytes_per_meter_day /bytes_per_meter_day_v16_same_data /'
    if [ -n "${FIGURES:-}" ]; then
        python3 scripts/bench_figures.py storage-daily-report "$FIGURES" conninfo="$conninfo" v16_conninfo="$v16_conninfo"
    fi
    psql -q "$conninfo" -c 'SET client_min_messages = warning' -c 'DROP SCHEMA v16 CASCADE' >/dev/null
}
load 100000001 first
# SECOND_LOAD=1: the same load again for as many other meters, after the first one's VACUUM: what a database
# that keeps running looks like (space freed by VACUUM is used again by later rows).
if [ "${SECOND_LOAD:-0}" = 1 ]; then
    load $((100000001 + meters)) second
fi
# V16_SAME_DATA=0 skips it (a gateway build whose schema is v16 or older has nothing to compare).
if [ "${V16_SAME_DATA:-1}" = 1 ]; then
    same_data_v16
fi
