#!/usr/bin/env bash
# Gateway memory per registered meter (issue 13 point 4): starts a gateway on an empty registry, registers N meters
# with one COPY while it runs (the next reload loads them), then restarts it on the full registry, and prints the
# resident set size (VmRSS, from /proc) each time and the bytes per meter.
# Usage: scripts/registry-rss.sh [meters] [protocol]    (defaults: 1000000 wmbus; protocol wmbus, native or cjt188)
# BIN=.build/release/meter-gateway to measure a release build (default: the debug build, which is not rebuilt).
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-1000000}
protocol=${2:-wmbus}
bin=${BIN:-.build/debug/meter-gateway}
state=".local/registry-rss"

scripts/services.sh clean "$state" 2>/dev/null || true
# Only a gateway that is running: `kill 0` would signal this script's whole process group.
trap '[ -z "${gateway:-}" ] || kill "$gateway" 2>/dev/null || true; scripts/services.sh clean "$state"' EXIT
scripts/services.sh up "$state" >/dev/null
# shellcheck disable=SC1091
source "$state/env"
psql -q "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" -c "CREATE DATABASE meter_gateway" >/dev/null
conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=meter_gateway"
cat >"$state/gateway.toml" <<EOF
[mqtt]
port = $MQTT_PORT
client_id = "meter-gateway-rss"
[postgres]
conninfo = "$conninfo"
[spool]
directory = "$PWD/$state/spool"
[http]
enabled = false
[log]
level = "info"
EOF
$bin migrate --config "$state/gateway.toml" >/dev/null

rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ { print $2 * 1024 }' "/proc/$1/status"; }
# Waits until the gateway's log shows a full registry load of at least $2 meters.
wait_loaded() {
    local deadline=$((SECONDS + 900))
    until grep -q "meters.count=$2 .*meter registry loaded" "$1"; do
        [ $SECONDS -lt $deadline ] || { echo "the gateway did not load $2 meters" >&2; tail -5 "$1" >&2; exit 1; }
        sleep 0.5
    done
}

$bin run --config "$state/gateway.toml" 2>"$state/gateway-1.log" &
gateway=$!
wait_loaded "$state/gateway-1.log" 0
sleep 2
empty=$(rss $gateway)

started=$(date +%s.%N)
python3 - "$meters" "$protocol" <<'EOF' | psql -q "$conninfo" -c "COPY meters (protocol, address, aes_key, min_protection) FROM STDIN"
import hashlib, sys
count, protocol = int(sys.argv[1]), sys.argv[2]
out = sys.stdout
for i in range(1, count + 1):
    key = hashlib.md5(str(i).encode()).hexdigest()
    if protocol == "wmbus":
        out.write(f"wmbus\tGWF-{i:08d}-60-07\t\\\\x{key}\tencrypted\n")
    elif protocol == "native":
        out.write(f"native\t{1000000000 + i}\t\\\\x{key}\tauthenticated\n")
    else:
        out.write(f"cjt188\t{78000000000000 + i}\t\\N\tplain\n")
EOF
copied=$(date +%s.%N)
wait_loaded "$state/gateway-1.log" "$meters"
loaded=$(date +%s.%N)
sleep 2
running=$(rss $gateway)
kill -TERM $gateway; wait $gateway || true

$bin run --config "$state/gateway.toml" 2>"$state/gateway-2.log" &
gateway=$!
wait_loaded "$state/gateway-2.log" "$meters"
sleep 2
restarted=$(rss $gateway)
peak=$(hwm $gateway)
kill -TERM $gateway; wait $gateway || true
gateway=

python3 - "$meters" "$protocol" "$empty" "$running" "$restarted" "$peak" "$started" "$copied" "$loaded" \
    "$state/gateway-2.log" <<'EOF'
import re, sys
n, protocol = int(sys.argv[1]), sys.argv[2]
empty, running, restarted, peak = (int(v) for v in sys.argv[3:7])
started, copied, loaded = (float(v) for v in sys.argv[7:10])
log = open(sys.argv[10]).read()
table = re.search(r"registry.table.bytes=(\d+)", log)
duration = re.search(r"registry.load.duration=(\S+)", log)
print(f"registry RSS, {n} {protocol} meters")
print(f"  gateway RSS, empty registry           {empty / 1e6:8.1f} MB")
print(f"  after COPY + reload while running     {running / 1e6:8.1f} MB  ({(running - empty) / n:6.1f} B/meter)")
print(f"  restarted on the full registry        {restarted / 1e6:8.1f} MB  ({(restarted - empty) / n:6.1f} B/meter)")
print(f"  peak RSS of the restarted gateway     {peak / 1e6:8.1f} MB")
if table:
    print(f"  registry tables (array capacity)      {int(table.group(1)) / 1e6:8.1f} MB  ({int(table.group(1)) / n:6.1f} B/meter)")
print(f"  COPY of {n} meters                    {copied - started:8.1f} s")
print(f"  COPY committed -> loaded (running)    {loaded - copied:8.1f} s")
if duration:
    print(f"  full load at restart                  {duration.group(1)}")
EOF
