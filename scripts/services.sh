#!/usr/bin/env bash
# Private PostgreSQL 15 and mosquitto for tests and the demo, on free loopback ports, under a git-ignored folder.
#
#   scripts/services.sh install        install the Debian packages that are missing (apt; needs root or sudo)
#   scripts/services.sh up DIR         start both servers with their data in DIR; writes DIR/env to source
#   scripts/services.sh down DIR       stop both servers started in DIR
#
# DIR/env exports GATEWAY_TEST_PG (libpq conninfo), MQTT_TEST_PORT, PG_PORT, MQTT_PORT and HTTP_PORT (free, unused).
set -euo pipefail

packages=(mosquitto libmosquitto-dev libpq-dev postgresql pkg-config)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
    local missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}" >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "error: the Swift 6 toolchain is not on PATH; install it from https://www.swift.org/install/linux/" >&2
        exit 1
    fi
}

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || { echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }
    echo "$dir"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Picks a random free loopback port in 20000-45000.
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 25000))
        port_in_use "$port" || { echo "$port"; return; }
    done
    echo "error: no free loopback port found" >&2
    exit 1
}

# Runs a command as the PostgreSQL owner: the server refuses to run as root.
as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

up() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local bin pg_port mqtt_port http_port
    bin=$(pg_bin)
    pg_port=$(free_port)
    mqtt_port=$(free_port)
    while [ "$mqtt_port" = "$pg_port" ]; do mqtt_port=$(free_port); done
    http_port=$(free_port)
    while [ "$http_port" = "$pg_port" ] || [ "$http_port" = "$mqtt_port" ]; do http_port=$(free_port); done

    mkdir -p "$dir/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg" && chmod 700 "$dir/pg"
    if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
        as_pg_owner "'$bin/initdb' -D '$dir/pg/data' -A trust -U postgres >'$dir/pg/initdb.log' 2>&1" \
            || { cat "$dir/pg/initdb.log" >&2; exit 1; }
    fi
    as_pg_owner "'$bin/pg_ctl' -D '$dir/pg/data' -l '$dir/pg/server.log' -w -t 60 \
        -o \"-p $pg_port -k '$dir/pg' -c listen_addresses=127.0.0.1 -c fsync=on\" start >/dev/null" \
        || { echo "error: PostgreSQL did not start on port $pg_port:" >&2; tail -n 20 "$dir/pg/server.log" >&2; exit 1; }

    mkdir -p "$dir/mqtt"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nlog_dest file %s\n' \
        "$mqtt_port" "$dir/mqtt/broker.log" >"$dir/mqtt/mosquitto.conf"
    : >"$dir/mqtt/broker.log"
    chmod 666 "$dir/mqtt/broker.log"
    # Not -d: as root the broker drops privileges and could not write a pid file; keep it a child we track.
    nohup mosquitto -c "$dir/mqtt/mosquitto.conf" >/dev/null 2>&1 &
    echo $! >"$dir/mqtt/pid"
    for _ in $(seq 1 50); do
        port_in_use "$mqtt_port" && break
        sleep 0.1
    done
    port_in_use "$mqtt_port" || { echo "error: mosquitto did not start on port $mqtt_port:" >&2; cat "$dir/mqtt/broker.log" >&2; exit 1; }

    cat >"$dir/env" <<EOF
export PG_PORT=$pg_port
export MQTT_PORT=$mqtt_port
export HTTP_PORT=$http_port
export GATEWAY_TEST_PG="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
export MQTT_TEST_PORT=$mqtt_port
EOF
    echo "PostgreSQL on 127.0.0.1:$pg_port, mosquitto on 127.0.0.1:$mqtt_port (data in $dir)" >&2
}

down() {
    local dir=$1
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/mqtt/pid" ]; then
        kill "$(cat "$dir/mqtt/pid")" 2>/dev/null || true
        rm -f "$dir/mqtt/pid"
    fi
    if [ -f "$dir/pg/data/postmaster.pid" ]; then
        as_pg_owner "'$(pg_bin)/pg_ctl' -D '$dir/pg/data' -m fast -w stop >/dev/null" || true
    fi
}

case "${1:-}" in
    install) install_missing ;;
    up) install_missing; up "${2:?usage: services.sh up DIR}" ;;
    down) down "${2:?usage: services.sh down DIR}" ;;
    *) echo "usage: $0 install | up DIR | down DIR" >&2; exit 64 ;;
esac
