#!/usr/bin/env bash
# End-to-end benchmark: a release gateway, broker, PostgreSQL and a simulated fleet on this machine.
# Prints frames/s sustained and the CPU time per frame of each process (gateway, broker, database, fleet), read
# from /proc, so the figures can be compared as ratios on a shared machine.
# Usage: scripts/bench.sh [meters] [seconds]     (defaults: 2000 meters, 20 s of publishing as fast as acks allow)
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-2000}
seconds=${2:-20}

scripts/services.sh install
state=".local/bench"
# clean also deletes PostgreSQL's data where it had to live outside the clone (see services.sh).
scripts/services.sh clean "$state" 2>/dev/null || true
trap 'kill "${gateway:-0}" 2>/dev/null || true; scripts/services.sh clean "$state"' EXIT
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
$bin run --config "$state/gateway.toml" 2>"$state/gateway.log" &
gateway=$!
sleep 2

# CPU ticks (user + system) of a process and its children, from /proc.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
    local total=0 pid
    for pid in $(pgrep -f "postgres.*$state/pg" || true) $(pgrep -P "$(head -1 "$state/pg/data/postmaster.pid")" || true); do
        total=$((total + $(ticks "$pid")))
    done
    echo "$total"
}
mosquitto_pid=$(cat "$state/mqtt/pid")
gw0=$(ticks "$gateway"); mq0=$(ticks "$mosquitto_pid"); pg0=$(pg_ticks)
start=$(date +%s.%N)

python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1] + "/fleet.json", "w"), check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1] + "/fleet.time", "w").write(f"{usage.ru_utime} {usage.ru_stime}")' "$state" \
    $bin simulate "${fleet[@]}" --rate 0 --duration "$seconds" --retransmit-after 0 --drain 30 \
    --no-scripted-alarms --alarm-probability 0.001 --client-id fleet-bench
generated=$(python3 -c "import json,sys; print(json.load(open('$state/fleet.json'))['framesGenerated'])")
while [ "$(psql -tA "$conninfo" -c 'SELECT count(*) FROM uplink_frames')" -lt "$generated" ]; do sleep 0.2; done
end=$(date +%s.%N)
gw1=$(ticks "$gateway"); mq1=$(ticks "$mosquitto_pid"); pg1=$(pg_ticks)

python3 - "$state" "$generated" "$start" "$end" "$gw0" "$gw1" "$mq0" "$mq1" "$pg0" "$pg1" "$(getconf CLK_TCK)" "$conninfo" <<'EOF'
import json, subprocess, sys
state, frames, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
gw, mq, pg = (int(sys.argv[6]) - int(sys.argv[5])), (int(sys.argv[8]) - int(sys.argv[7])), (int(sys.argv[10]) - int(sys.argv[9]))
hz, conninfo = int(sys.argv[11]), sys.argv[12]
report = json.load(open(f"{state}/fleet.json"))
user, system = (float(x) for x in open(f"{state}/fleet.time").read().split())
def q(sql): return subprocess.run(["psql", "-tA", conninfo, "-c", sql], capture_output=True, text=True).stdout.strip()
rows = int(q("SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM interval_readings) + (SELECT count(*) FROM uplink_frames) + (SELECT count(*) FROM alarms)"))
wall = end - start
us = lambda ticks: ticks / hz * 1e6 / frames
fleet_us = (user + system) * 1e6 / frames
print(f"frames            {frames} ({report['readings']} readings, {report['dailyReports']} daily reports x 48 points, {report['alarms']} alarms)")
print(f"rows written      {rows}")
print(f"wall time         {wall:.1f} s from first publish to last frame stored")
print(f"throughput        {frames / wall:.0f} frames/s, {rows / wall:.0f} rows/s (all processes on {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores)")
print(f"CPU per frame     gateway {us(gw):.1f} us | broker {us(mq):.1f} us | PostgreSQL {us(pg):.1f} us | fleet simulator {fleet_us:.1f} us")
print(f"ratios            gateway/broker {us(gw) / max(us(mq), 1e-9):.2f} | gateway/PostgreSQL {us(gw) / max(us(pg), 1e-9):.2f}")
print(f"gateway capacity  {1e6 / us(gw):.0f} frames/s per core of gateway CPU")
print(f"acks              {report['acked']} acked, {report['unacked']} unacked")
EOF
# Phase 2: the validator works through every meter the fleet touched (queued during phase 1).
queued=$(psql -tA "$conninfo" -c 'SELECT count(*) FROM validation_queue')
while [ "$(psql -tA "$conninfo" -c "SELECT count(*) FROM validation_queue WHERE queued_at <= now() - interval '$((seconds + 15)) seconds'")" -eq 0 ]; do
    sleep 0.2
done
v0=$(date +%s.%N); vgw0=$(ticks "$gateway"); vpg0=$(pg_ticks)
while [ "$(psql -tA "$conninfo" -c 'SELECT count(*) FROM validation_queue')" -gt 0 ]; do sleep 0.2; done
v1=$(date +%s.%N); vgw1=$(ticks "$gateway"); vpg1=$(pg_ticks)
python3 - "$queued" "$v0" "$v1" "$vgw0" "$vgw1" "$vpg0" "$vpg1" "$(getconf CLK_TCK)" "$conninfo" <<'EOF'
import subprocess, sys
meters, v0, v1 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
gw, pg, hz, conninfo = int(sys.argv[5]) - int(sys.argv[4]), int(sys.argv[7]) - int(sys.argv[6]), int(sys.argv[8]), sys.argv[9]
def q(sql): return subprocess.run(["psql", "-tA", conninfo, "-c", sql], capture_output=True, text=True).stdout.strip()
reads = int(q("SELECT count(*) FROM readings WHERE quality IS NOT NULL"))
days = int(q("SELECT count(*) FROM daily_reads"))
wall = v1 - v0
print(f"validation        {meters} meters ({reads} readings, {days} days) in {wall:.1f} s, {meters / wall:.0f} meters/s")
print(f"CPU per meter     gateway {gw / hz * 1e6 / max(meters, 1):.0f} us | PostgreSQL {pg / hz * 1e6 / max(meters, 1):.0f} us")
print("days by quality   " + q("SELECT string_agg(quality || ' ' || n, ', ') FROM (SELECT read_quality_name(quality) AS quality, count(*) n FROM daily_reads GROUP BY 1 ORDER BY 1) s"))
EOF
kill -TERM "$gateway"; wait "$gateway" || true
