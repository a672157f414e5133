#!/usr/bin/env bash
# End-to-end benchmark: a release gateway, broker, PostgreSQL and a simulated fleet on this machine, in phases:
#   1. reference  the fleet against `meter-gateway reference-consumer` (acks only: no decode, no database): the
#                 rate broker + fleet allow here, the ceiling the gateway's rate is printed against;
#   2. ingest     the same fleet against the gateway: frames/s, CPU per frame of gateway, broker, PostgreSQL, fleet;
#   3. validation the validator works through every meter the fleet touched: meters/s, CPU per meter;
#   4. storage    bytes on disk per meter-day, and of the same rows in the v16 layout (a scratch schema) with the ratio;
#   5. alarms     `meter-gateway bench-alarms` at half the sustained rate: publish -> NOTIFY and -> dispatch topic;
#   and the gateway's peak RSS;
#   6. a gas meter's day: bytes per meter-day (and v16's on the same rows) of a load where each meter sends its daily
#                 report once, as a battery-powered gas meter does (scripts/storage-load.sh in a fresh database). CPU times are read from /proc, so the figures compare as ratios on a shared machine.
# Every figure also goes to a JSON file (path printed at the end; BENCH_FIGURES overrides it). The arithmetic lives
# in scripts/bench_figures.py, which also derives the README's scaling table from that file (`capacity`).
# Usage: scripts/bench.sh [meters] [seconds]     (defaults: 2000 meters, 20 s of publishing as fast as acks allow)
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-2000}
seconds=${2:-20}
figures=${BENCH_FIGURES:-$PWD/.local/bench-figures.json}
report() { python3 scripts/bench_figures.py "$@"; }

scripts/services.sh install
state=".local/bench"
# clean also deletes PostgreSQL's data where it had to live outside the clone (see services.sh).
scripts/services.sh clean "$state" 2>/dev/null || true
# Only children that were started: `kill 0` would signal this script's whole process group.
trap 'for child in ${gateway:-} ${consumer:-}; do kill "$child" 2>/dev/null || true; done
      scripts/services.sh clean "$state"' EXIT
scripts/services.sh up "$state"
# shellcheck disable=SC1091
source "$state/env"
psql -q "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" -c "CREATE DATABASE meter_gateway" >/dev/null
conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=meter_gateway"

echo "== building release" >&2
swift build -c release --product meter-gateway 2>&1 | tail -n 1 >&2
bin=.build/release/meter-gateway

cat >"$state/gateway.toml" <<EOF
[mqtt]
port = $MQTT_PORT
client_id = "meter-gateway-bench"
receive_maximum = 2000
[postgres]
conninfo = "$conninfo"
[spool]
directory = "$PWD/$state/spool"
[http]
enabled = false
[validation]
# Validation starts once publishing is over, so the two phases are measured apart.
delay_seconds = $((seconds + 15))
billing_day_utc_offset_minutes = 480
[log]
level = "warning"
EOF

fleet=(--config "$state/gateway.toml" --meters "$meters")
$bin simulate --provision-only "${fleet[@]}" >/dev/null
rm -f "$figures"
mkdir -p "$(dirname "$figures")"

# CPU ticks (user + system) of a process, from /proc.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
    local total=0 pid
    for pid in $(pgrep -f "postgres.*$state/pg" || true) $(pgrep -P "$(head -1 "$state/pg/data/postmaster.pid")" || true); do
        total=$((total + $(ticks "$pid")))
    done
    echo "$total"
}
mosquitto_pid=$(cat "$state/mqtt/pid")
# Runs the simulator with its arguments, its JSON report to $state/NAME.json and its CPU time to $state/NAME.time.
run_fleet() {
    local name=$1
    shift
    python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[3:], stdout=open(sys.argv[1] + "/" + sys.argv[2] + ".json", "w"), check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1] + "/" + sys.argv[2] + ".time", "w").write(f"{usage.ru_utime} {usage.ru_stime}")' "$state" "$name" "$@"
}
publish=(--rate 0 --duration "$seconds" --retransmit-after 0 --drain 30 --no-scripted-alarms --alarm-probability 0.001)

echo "== 1. reference: the same fleet against an ack-only consumer" >&2
$bin reference-consumer --config "$state/gateway.toml" --meters "$meters" >"$state/consumer.out" 2>"$state/consumer.log" &
consumer=$!
sleep 2
c0=$(ticks "$consumer"); mq0=$(ticks "$mosquitto_pid")
run_fleet reference $bin simulate "${fleet[@]}" "${publish[@]}" --client-id fleet-reference
c1=$(ticks "$consumer"); mq1=$(ticks "$mosquitto_pid")
kill -TERM "$consumer"; wait "$consumer" || true
report reference "$figures" "$state" hz="$(getconf CLK_TCK)" consumer0="$c0" consumer1="$c1" broker0="$mq0" broker1="$mq1"

echo "== 2. ingest: the gateway" >&2
$bin run --config "$state/gateway.toml" 2>"$state/gateway.log" &
gateway=$!
sleep 2
gw0=$(ticks "$gateway"); mq0=$(ticks "$mosquitto_pid"); pg0=$(pg_ticks)
start=$(date +%s.%N)
run_fleet fleet $bin simulate "${fleet[@]}" "${publish[@]}" --client-id fleet-bench
generated=$(python3 -c "import json,sys; print(json.load(open('$state/fleet.json'))['framesGenerated'])")
while [ "$(psql -tA "$conninfo" -c 'SELECT count(*) FROM uplink_frames')" -lt "$generated" ]; do sleep 0.2; done
end=$(date +%s.%N)
gw1=$(ticks "$gateway"); mq1=$(ticks "$mosquitto_pid"); pg1=$(pg_ticks)
report ingest "$figures" "$state" hz="$(getconf CLK_TCK)" conninfo="$conninfo" start="$start" end="$end" \
    gateway0="$gw0" gateway1="$gw1" broker0="$mq0" broker1="$mq1" postgres0="$pg0" postgres1="$pg1"

echo "== 3. validation" >&2
# The validator works through every meter the fleet touched (queued during phase 2).
queued=$(psql -tA "$conninfo" -c 'SELECT count(*) FROM validation_queue')
while [ "$(psql -tA "$conninfo" -c "SELECT count(*) FROM validation_queue WHERE queued_at <= now() - interval '$((seconds + 15)) seconds'")" -eq 0 ]; do
    sleep 0.2
done
v0=$(date +%s.%N); vgw0=$(ticks "$gateway"); vpg0=$(pg_ticks)
while [ "$(psql -tA "$conninfo" -c 'SELECT count(*) FROM validation_queue')" -gt 0 ]; do sleep 0.2; done
v1=$(date +%s.%N); vgw1=$(ticks "$gateway"); vpg1=$(pg_ticks)
report validation "$figures" hz="$(getconf CLK_TCK)" conninfo="$conninfo" meters="$queued" start="$v0" end="$v1" \
    gateway0="$vgw0" gateway1="$vgw1" postgres0="$vpg0" postgres1="$vpg1"

echo "== 4. storage" >&2
psql -q "$conninfo" -c 'VACUUM ANALYZE' >/dev/null
# The same rows in the v16 layout (before issue 13's storage work), in schema v16 of this database (its schema made by
# the migrations themselves up to v16, the rows copied as v16 would have written them; scripts/v16-same-data.sh), then
# measured by the same SQL. Bytes per meter depend on the load, so before and after are compared on one load.
v16_conninfo=$(GATEWAY_BIN=$bin scripts/v16-same-data.sh "$state/gateway.toml")
report storage "$figures" conninfo="$conninfo" v16_conninfo="$v16_conninfo"
# The v16 copy is the bench's own scratch (hundreds of MB just written, no part of a gateway's load): dropped, and its
# dirty pages flushed by a checkpoint before phase 5, whose commits otherwise waited behind that write-back (same
# build, one run each: NOTIFY p99 53.1 ms with it, 26.1 ms without; publish -> receive p99 12.0 / 3.8 ms).
psql -q "$conninfo" -c 'DROP SCHEMA v16 CASCADE' -c 'CHECKPOINT' >/dev/null

echo "== 5. alarm latency at half the sustained rate" >&2
rate=$(python3 -c "import json; print(round(json.load(open('$figures'))['ingest']['frames_per_second_stored'] / 2))")
$bin bench-alarms "${fleet[@]}" --rate "$rate" --duration "$seconds" --no-daily-reports --no-scripted-alarms \
    --alarm-probability 0.01 --retransmit-after 5 --drain 15 --client-id fleet-alarms >"$state/alarms.json" || true
report alarms "$figures" "$state" rate="$rate"

report memory "$figures" vmhwm_kb="$(awk '/^VmHWM/ { print $2 }' "/proc/$gateway/status")"
kill -TERM "$gateway"
status=0; wait "$gateway" || status=$?
if [ "$status" -ne 0 ]; then
    # The state folder is deleted on exit: show why the gateway did not stop cleanly before it goes.
    echo "bench.sh: the gateway exited with status $status at SIGTERM; the end of its log:" >&2
    tail -n 40 "$state/gateway.log" >&2
    exit 1
fi

echo "== 6. storage of a gas meter's day: each meter sends its daily report once (a fresh database)" >&2
# Phase 4 measured the bench's own load: one daily report per meter, then a reading every few seconds, as fast as acks
# allow (~12 frames per meter in 20 s), which no battery-powered gas meter sends. Here RATE = meters / 10 over 10 s.
RATE=$(((meters + 9) / 10)) GATEWAY_BIN=$bin FIGURES=$figures scripts/storage-load.sh "$state" "$meters" 10 \
    >"$state/storage-daily-report.out"
grep -E '^daily.report' "$state/storage-daily-report.out"
echo "figures           $figures"
