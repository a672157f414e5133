#!/usr/bin/env bash
# The fault campaign: the real broker, PostgreSQL, one or two `meter-gateway run` processes and a fleet of native,
# CJ/T 188 and wireless M-Bus meters (with and without meter clocks, with alarms); faults injected one after another;
# then `meter-gateway faults check` compares the fleet's own record with the database and prints one table.
#
#   scripts/faults.sh [--short|--long] [--keep]
#
#   --short  every fault once with short phases (default; part of scripts/test.sh; about 4 minutes on 2 cores)
#   --long   more meters, longer phases (PostgreSQL read-only 30 s, refusing connections 60 s), random repeat counts
#   --keep   leave the servers' state, the gateways' logs and the records in .local/faults-PID (servers stopped)
#
# Faults, in order: 1 SIGKILL of the gateway three times at random moments (restarted after each); 2 PostgreSQL
# restart (pg_ctl -m fast restart); 3 PostgreSQL read-only (ALTER SYSTEM default_transaction_read_only); 4 PostgreSQL
# refusing connections (pg_ctl stop -m fast … start); 5 broker restart (SIGKILL of the broker this script's servers
# run, started again with the same configuration: persistence false, so queued frames of offline sessions are lost);
# 6 the spool's disk full (as root: a 16 MiB tmpfs as the spool, filled with a filler file, then freed; skipped
# otherwise); 7 two gateways in a shared subscription group, the second killed with SIGKILL mid-stream and restarted;
# 8 clock-less frames redelivered and once retained, then a gateway restart (the broker re-sends the retained ones);
# 9 a burst of thousands of hostile payloads (random, truncated, bit-flipped, oversized, another meter's frame,
# a collector speaking for meters not assigned to it, replays (half through the meters' own collector), identical
# repeats, native frames reusing stored counters with other content, and the attacks on OMS mode 5: forged
# ciphertexts, forged status bytes, downgrades below a meter's minimum protection) with the gateway's peak RSS.
#
# Uses the binary in $GATEWAY_TEST_BIN, else builds .build/debug/meter-gateway. Starts private servers through
# scripts/services.sh in its own state folder and removes everything it started on exit, also on failure.
# Exit status: 0 when the checker found no violation, 1 otherwise (or when a step fails, with the reason).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
root=$PWD
me="faults.sh"

mode=short
keep=""
for arg in "$@"; do
    case "$arg" in
        --short) mode=short ;;
        --long) mode=long ;;
        --keep) keep=1 ;;
        -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "$me: unknown argument $arg (usage: scripts/faults.sh [--short|--long] [--keep])" >&2; exit 64 ;;
    esac
done

if [ "$mode" = short ]; then
    native_meters=40 cjt_meters=4 wmbus_meters=4 native_rate=20 other_rate=10
    kill_seconds=16 restart_seconds=10 readonly_hold=10 refuse_hold=20 broker_seconds=10 disk_hold=6
    shared_seconds=14 redeliver_seconds=8 redeliver_repeats=3 hostile_count=3000 random_repeats=""
else
    native_meters=150 cjt_meters=20 wmbus_meters=20 native_rate=60 other_rate=30
    kill_seconds=40 restart_seconds=20 readonly_hold=30 refuse_hold=60 broker_seconds=25 disk_hold=20
    shared_seconds=30 redeliver_seconds=20 redeliver_repeats=6 hostile_count=20000 random_repeats="--random-repeats"
fi

state="$root/.local/faults-$$"
services="$state/services"
records="$state/records"
mkdir -p "$records"
started_at=$SECONDS

say() { printf '%s: %s\n' "$me" "$*" >&2; }

# Prints an error with indented details and exits 1 (the EXIT trap cleans up).
fail() {
    printf '%s: error: %s\n' "$me" "$1" >&2
    shift
    local line
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 1
}

log_tail() { if [ -s "$1" ]; then tail -n "${2:-15}" "$1" | sed 's/^/    /'; else echo "    ($1 is empty)"; fi; }

declare -A gw_pid=() http_port=()
publisher_pids=()
spool_mount=""
phase_failed=""

cleanup() {
    local status=$?
    trap - ERR
    set +e
    local pid
    for pid in "${publisher_pids[@]}" "${gw_pid[@]}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done
    sleep 0.5
    for pid in "${publisher_pids[@]}" "${gw_pid[@]}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ -n "$spool_mount" ] && mountpoint -q "$spool_mount"; then
        umount "$spool_mount" || say "warning: could not unmount the tmpfs at $spool_mount; unmount it yourself"
    fi
    if [ -d "$services" ]; then
        if [ -n "$keep" ]; then
            scripts/services.sh down "$services"
            say "kept the campaign's state in $state (scripts/services.sh clean $services removes the servers' data)"
        else
            scripts/services.sh clean "$services"
            rm -rf "$state"
        fi
    fi
    if [ "$status" -ne 0 ] && [ -z "$keep" ]; then
        say "failed (exit status $status); run with --keep to keep the gateways' logs and the records"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'printf "%s: error: line %s failed (exit status %s): %s\n" "$me" "$LINENO" "$?" "$BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
event() { printf '%s=%s\n' "$2" "$3" >>"$records/$1.events"; }
pause() { sleep "$(awk -v a="$1" -v b="$2" 'BEGIN { srand(); printf "%.2f", a + rand() * (b - a) }')"; }

# ------------------------------------------------------------------------------------------------ binary and servers

bin=${GATEWAY_TEST_BIN:-}
if [ -z "$bin" ]; then
    say "building meter-gateway (set GATEWAY_TEST_BIN to use a built binary)"
    swift build --product meter-gateway >&2
    bin="$root/.build/debug/meter-gateway"
fi
[ -x "$bin" ] || fail "the gateway binary $bin is not executable" "hint: swift build --product meter-gateway"

scripts/services.sh up "$services"
# shellcheck disable=SC1091
source "$services/env"
pg_folder=$(if [ -L "$services/pg" ]; then readlink "$services/pg"; else echo "$services/pg"; fi)
pg_owner=$(stat -c %U "$pg_folder/data")
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV | head -n 1)
[ -x "$pg_bin/pg_ctl" ] || fail "pg_ctl is not in /usr/lib/postgresql/*/bin"
mosquitto_program=$(command -v mosquitto || echo /usr/sbin/mosquitto)
admin="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"

pg_ctl_as_owner() {
    if [ "$pg_owner" = "$(id -un)" ]; then
        (cd / && "$pg_bin/pg_ctl" -D "$pg_folder/data" "$@")
    else
        (cd / && runuser -u "$pg_owner" -- "$pg_bin/pg_ctl" -D "$pg_folder/data" "$@")
    fi
}

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 25000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
    fail "no free loopback port found"
}

psql -qAtX "$admin" -c "CREATE DATABASE faults" >/dev/null
http_port[1]=$HTTP_PORT
http_port[2]=$(free_port)

# The gateways' configuration: quick reconnects and retries, 1 MiB spool segments, validation after 1 s.
write_config() {
    local n=$1 spool=$2
    mkdir -p "$spool"
    cat >"$state/gw$n.toml" <<EOF
[mqtt]
host = "127.0.0.1"
port = $MQTT_PORT
client_id = "gw-faults-$n"
reconnect_min_ms = 100
reconnect_max_ms = 1000

[postgres]
conninfo = "host=127.0.0.1 port=$PG_PORT user=postgres dbname=faults"

[spool]
directory = "$spool"
segment_mb = 1

[pipeline]
retry_min_ms = 100
retry_max_ms = 1000

[http]
port = ${http_port[$n]}

[validation]
delay_seconds = 1

[signatures]
# The checker counts the alarms the fleet sent, one by one; leak signatures derive further alarms (and tickets)
# from the consumption the simulated fleet happens to have, which have their own tests.
enabled = false

[log]
level = "notice"
EOF
}

spool1="$state/spool-1"
mkdir -p "$spool1"
if [ "$(id -u)" -eq 0 ]; then
    mount -t tmpfs -o size=16m tmpfs "$spool1" || fail "could not mount a tmpfs at $spool1 for the disk-full fault"
    spool_mount=$spool1
fi
write_config 1 "$spool1"
write_config 2 "$state/spool-2"

"$bin" faults provision --config "$state/gw1.toml" --phases 9 --native-meters "$native_meters" \
    --cjt-meters "$cjt_meters" --wmbus-meters "$wmbus_meters" >&2

# ------------------------------------------------------------------------------------------------ processes

# Starts gateway N in the background (extra arguments: VAR=value environment overrides).
start_gateway() {
    local n=$1
    shift
    env "$@" "$bin" run --config "$state/gw$n.toml" >>"$state/gw$n.log" 2>&1 </dev/null &
    gw_pid[$n]=$!
}

# Stops gateway N with SIGTERM (or the given signal) and waits for it.
stop_gateway() {
    local n=$1 signal=${2:-TERM} pid=${gw_pid[$1]:-}
    [ -n "$pid" ] || return 0
    kill "-$signal" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    gw_pid[$n]=""
}

readyz() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:${http_port[$1]}/readyz" || true; }

# Waits until gateway N's /readyz answers 200; prints the seconds since START (default: now).
wait_ready() {
    local n=$1 start=${2:-$(now)} deadline=$((SECONDS + 180))
    until [ "$(readyz "$n")" = 200 ]; do
        if ! kill -0 "${gw_pid[$n]}" 2>/dev/null; then
            fail "gateway $n (pid ${gw_pid[$n]}) exited while recovering" "$(log_tail "$state/gw$n.log")"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "gateway $n did not become ready within 180 s" \
            "$(curl -s --max-time 1 "http://127.0.0.1:${http_port[$n]}/readyz")" "$(log_tail "$state/gw$n.log")"
        sleep 0.1
    done
    elapsed "$start"
}

# Watches gateway N's /readyz for SECONDS; records in phase P's notes what it answered while the fault held.
hold_and_watch() {
    local phase=$1 n=$2 seconds=$3 end seen=""
    end=$(awk -v a="$(now)" -v s="$seconds" 'BEGIN { printf "%.3f", a + s }')
    while awk -v e="$end" -v n="$(now)" 'BEGIN { exit !(n < e) }'; do
        if [ -z "$seen" ] && [ "$(readyz "$n")" != 200 ]; then
            seen=$(curl -s --max-time 1 "http://127.0.0.1:${http_port[$n]}/readyz" | tr -d '\n' | cut -c1-90 || true)
            event "$phase" note "while the fault held /readyz said: ${seen:-no answer}"
        fi
        sleep 0.5
    done
    [ -n "$seen" ] || event "$phase" note "/readyz stayed 200 while the fault held"
}

native_pid="" other_pid=""
# Starts phase P's native fleet and its CJ/T 188 + wM-Bus fleet for SECONDS (extra arguments go to faults publish).
start_fleets() {
    local phase=$1 seconds=$2 drain=$3
    shift 3
    local first=$((100000001 + phase * 1000))
    event "$phase" native_meters "$native_meters"
    "$bin" simulate --config "$state/gw1.toml" --meters "$native_meters" --first-meter-id "$first" \
        --rate "$native_rate" --duration "$seconds" --retransmit-after 3 --drain "$drain" --alarm-probability 0 \
        --client-id "fleet-faults-$phase" >"$records/$phase.native.json" 2>>"$state/fleet.log" </dev/null &
    native_pid=$!
    publisher_pids+=("$native_pid")
    "$bin" faults publish --config "$state/gw1.toml" --phase "$phase" --cjt-meters "$cjt_meters" \
        --wmbus-meters "$wmbus_meters" --rate "$other_rate" --duration "$seconds" "$@" \
        --record "$records/$phase-fleet.frames.json" --client-id "faults-fleet-$phase" \
        >>"$state/fleet.log" 2>&1 </dev/null &
    other_pid=$!
    publisher_pids+=("$other_pid")
}

wait_fleets() {
    local phase=$1 pid
    for pid in "$native_pid" "$other_pid"; do
        wait "$pid" || fail "phase $phase: a fleet publisher (pid $pid) failed" "$(log_tail "$state/fleet.log")"
    done
}

begin() { say "phase $1: $2"; event "$1" name "$2"; }

# Waits for gateway N to be ready and records the seconds since START (default: now) as phase P's recovery time.
recovered() {
    local phase=$1 n=$2 start=${3:-} seconds
    seconds=$(wait_ready "$n" "${start:-$(now)}")
    event "$phase" recover "$seconds"
}

# ------------------------------------------------------------------------------------------------ the campaign

start_gateway 1
wait_ready 1 >/dev/null

# 1. SIGKILL of the gateway three times at random moments.
begin 1 "kill -9 gateway x3"
start_fleets 1 "$kill_seconds" 30
for _ in 1 2 3; do
    pause 1 $((kill_seconds / 4))
    stop_gateway 1 KILL
    t=$(now)
    pause 0.1 0.6
    start_gateway 1
    recovered 1 1 "$t"
    event 1 kills 1
done
wait_fleets 1

# 2. PostgreSQL restart.
begin 2 "PostgreSQL restart"
start_fleets 2 "$restart_seconds" 30
pause 2 4
pg_ctl_as_owner -m fast -w -t 60 restart >>"$state/pg_ctl.log" 2>&1 || fail "pg_ctl restart failed" "$(log_tail "$state/pg_ctl.log")"
recovered 2 1
wait_fleets 2

# 3. PostgreSQL read-only.
begin 3 "PostgreSQL read-only ${readonly_hold} s"
start_fleets 3 $((readonly_hold + 6)) $((readonly_hold + 40))
sleep 2
psql -qAtX "$admin" -c "ALTER SYSTEM SET default_transaction_read_only = on" -c "SELECT pg_reload_conf()" >/dev/null
hold_and_watch 3 1 "$readonly_hold"
PGOPTIONS='-c default_transaction_read_only=off' psql -qAtX "$admin" \
    -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()" >/dev/null
recovered 3 1
wait_fleets 3

# 4. PostgreSQL refusing connections.
begin 4 "PostgreSQL down ${refuse_hold} s"
start_fleets 4 $((refuse_hold + 4)) $((refuse_hold + 40))
sleep 2
pg_ctl_as_owner -m fast -w -t 60 stop >>"$state/pg_ctl.log" 2>&1 || fail "pg_ctl stop failed" "$(log_tail "$state/pg_ctl.log")"
hold_and_watch 4 1 "$refuse_hold"
pg_ctl_as_owner -w -t 60 -l "$pg_folder/server.log" -o "-p $PG_PORT -k '' -c listen_addresses=127.0.0.1 -c fsync=on" \
    start >>"$state/pg_ctl.log" 2>&1 || fail "pg_ctl start failed" "$(log_tail "$state/pg_ctl.log")" \
    "$(log_tail "$pg_folder/server.log")"
recovered 4 1
wait_fleets 4

# 5. Broker restart (persistence false: every session and its queued frames are gone after the restart).
begin 5 "broker restart"
start_fleets 5 "$broker_seconds" 30
pause 2 4
broker_pid=$(cat "$services/mqtt/pid")
window_start=$(awk -v a="$(now)" 'BEGIN { printf "%.3f", a - 5 }')
kill -9 "$broker_pid"
while kill -0 "$broker_pid" 2>/dev/null; do sleep 0.05; done
sleep 0.5
nohup "$mosquitto_program" -c "$services/mqtt/mosquitto.conf" >>"$services/mqtt/broker.log" 2>&1 </dev/null &
echo "$!" >"$services/mqtt/pid"
t=$(now)
recovered 5 1 "$t"
event 5 window "broker-restart-without-persistence $window_start $(awk -v a="$(now)" 'BEGIN { printf "%.3f", a + 2 }')"
wait_fleets 5

# 6. The spool's disk full.
begin 6 "spool disk full"
start_fleets 6 $((disk_hold + 6)) 30
if [ -n "$spool_mount" ]; then
    sleep 2
    dd if=/dev/zero of="$spool1/filler" bs=64k 2>/dev/null || true
    event 6 note "spool tmpfs filled: $(df -h --output=avail "$spool1" | tail -n 1 | tr -d ' ') left"
    hold_and_watch 6 1 "$disk_hold"
    rm -f "$spool1/filler"
    recovered 6 1
else
    event 6 skipped "not root: mounting a small tmpfs as the spool needs root"
fi
wait_fleets 6

# 7. Two gateways in a shared subscription group; the second killed with SIGKILL mid-stream and restarted.
begin 7 "2nd gateway kill -9 (shared group)"
stop_gateway 1
start_gateway 1 METER_GATEWAY_MQTT_SHARED_GROUP=faults
start_gateway 2 METER_GATEWAY_MQTT_SHARED_GROUP=faults
wait_ready 1 >/dev/null
wait_ready 2 >/dev/null
start_fleets 7 "$shared_seconds" 30
pause 3 $((shared_seconds / 2))
stop_gateway 2 KILL
t=$(now)
event 7 kills 1
event 7 window "dead-shared-member-in-flight $(awk -v a="$t" 'BEGIN { printf "%.3f %.3f", a - 3, a + 1 }')"
pause 0.2 1
start_gateway 2 METER_GATEWAY_MQTT_SHARED_GROUP=faults
recovered 7 2 "$t"
wait_fleets 7
sleep 2
stop_gateway 2
stop_gateway 1
start_gateway 1
wait_ready 1 >/dev/null

# 8. Clock-less frames redelivered and retained, then a gateway restart (the broker re-sends the retained frames).
begin 8 "clock-less redelivered + retained"
start_fleets 8 "$redeliver_seconds" 30 --redeliver "$redeliver_repeats" $random_repeats
wait_fleets 8
stop_gateway 1
t=$(now)
start_gateway 1
recovered 8 1 "$t"
event 8 kills 1 # a restart: quarantine repeat counts may include a replay
sleep 2

# 9. A burst of hostile input, with the gateway's peak RSS.
begin 9 "hostile burst"
rss_before=$(awk '/VmHWM/ { print $2 }' "/proc/${gw_pid[1]}/status")
start_fleets 9 10 30
"$bin" faults publish --config "$state/gw1.toml" --phase 9 --cjt-meters "$cjt_meters" --wmbus-meters "$wmbus_meters" \
    --hostile "$hostile_count" $random_repeats --record "$records/9-hostile.frames.json" --client-id "faults-hostile" \
    >>"$state/fleet.log" 2>&1 </dev/null &
hostile_pid=$!
publisher_pids+=("$hostile_pid")
peak=0
while kill -0 "$hostile_pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/${gw_pid[1]}/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -le "$peak" ] || peak=$rss
    sleep 0.2
done
wait "$hostile_pid" || fail "phase 9: the hostile publisher failed" "$(log_tail "$state/fleet.log")"
wait_fleets 9
sleep 2
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/${gw_pid[1]}/status")
event 9 peak_rss_kb "$hwm"
event 9 note "sampled VmRSS peak during the burst $((peak / 1024)) MiB; VmHWM before the burst $((rss_before / 1024)) MiB"
recovered 9 1

# ------------------------------------------------------------------------------------------------ the check

say "all faults injected after $((SECONDS - started_at)) s; checking the records against the database"
status=0
"$bin" faults check --config "$state/gw1.toml" --records "$records" --settle 90 || status=$?
say "campaign ($mode) took $((SECONDS - started_at)) s wall time"
if [ "$status" -ne 0 ]; then
    keep=1
    fail "the checker found violations (listed above); the gateways' logs and the records stay in $state"
fi
