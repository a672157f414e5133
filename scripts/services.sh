#!/usr/bin/env bash
# Private PostgreSQL and mosquitto for tests and the demo, on free loopback ports, with their state in a git-ignored
# folder. Nothing here starts, enables or reconfigures the system's own postgresql or mosquitto services.
#
#   scripts/services.sh install        install the Debian packages that are missing (apt-get; as root, or through sudo)
#   scripts/services.sh up DIR         start both servers with their state in DIR; writes DIR/env to source
#   scripts/services.sh down DIR       stop both servers started in DIR; their data stays for the next `up DIR`
#   scripts/services.sh clean DIR      stop them and delete DIR with all their data
#
# DIR/env exports GATEWAY_TEST_PG (libpq conninfo), MQTT_TEST_PORT, PG_PORT, MQTT_PORT and HTTP_PORT (free, unused),
# and GATEWAY_TEST_TLS_DIR: a test certificate authority made with openssl (see make_test_ca), never for production.
# PostgreSQL serves TLS (ssl = on) with that CA's `localhost` certificate; plain connections keep working, and
# GATEWAY_TEST_PG asks for one (sslmode=disable) so the other suites run as they did without TLS.
#
# Who runs the servers: the user running this script; as root, PostgreSQL runs as the `postgres` user (the server
# refuses root) and mosquitto drops to its `mosquitto` user. When `postgres` cannot enter DIR (a clone in a home folder
# of mode 0700, such as root's), PostgreSQL's data goes to a private folder /var/tmp/meter-gateway-pg.XXXXXX (owned by
# postgres, mode 0700) and DIR/pg is a symbolic link to it; `up DIR` finds it again there, `clean DIR` deletes it.
#
# The install: the packages' own services are kept from starting by a temporary /usr/sbin/policy-rc.d (the Debian
# way; written only if there is none, removed right after). Where systemd runs, the `postgresql`, `mosquitto` and
# `prometheus` (its promtool checks /metrics in the tests; the server is never run) units that
# the install newly enabled are disabled again. Every step is reported on stderr. `systemd` is for its
# systemd-analyze (SystemdUnitTests verifies the unit offline; systemd need not run as init), `groff-base` for the man
# page check, `python3-venv` and `curl` for the OpenAPI check (openapi-spec-validator and schemathesis from PyPI),
# `chromium`, `chromium-driver` and `fonts-dejavu-core` for the dispatch console's browser test (selenium from PyPI).
# `tzdata` gives /usr/share/zoneinfo, which PostgreSQL reads zone names (Europe/Berlin) from; the gateway resolves
# the same names with the zone data bundled in Swift's Foundation (ICU), and a test checks that the two agree.
set -Eeuo pipefail

me="services.sh"
packages=(mosquitto libmosquitto-dev libpq-dev postgresql pkg-config openssl prometheus tzdata python3-venv curl systemd
    groff-base chromium chromium-driver fonts-dejavu-core)
units=(postgresql mosquitto prometheus prometheus-node-exporter)
policy=/usr/sbin/policy-rc.d
policy_marker="written by meter-gateway scripts/services.sh"
policy_created=""
up_dir=""

say() { printf '%s: %s\n' "$me" "$*" >&2; }

# Prints an error and its indented details, then exits 1.
fail() {
    printf '%s: error: %s\n' "$me" "$1" >&2
    shift
    local line
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 1
}

# The last lines of a log file, indented, for an error message; from byte FROM on (what this run wrote), if given.
log_tail() {
    local file=$1 lines=${2:-25} from=${3:-0}
    if [ ! -e "$file" ]; then
        echo "($file does not exist)"
    elif [ "$(stat -c %s "$file")" -le "$from" ]; then
        echo "($file has nothing$([ "$from" -eq 0 ] || echo ' new'))"
    else
        echo "last lines of $file$([ "$from" -eq 0 ] || echo ' (this run)'):"
        tail -c "+$((from + 1))" "$file" | tail -n "$lines" | sed 's/^/    /'
    fi
}

on_error() {
    local status=$1 line=$2 command=$3
    printf '%s: error: stopped at line %s, exit status %s: %s\n' "$me" "$line" "$status" "$command" >&2
}

on_exit() {
    local status=$?
    trap - ERR
    set +e
    restore_service_policy
    if [ -n "$up_dir" ] && [ "$status" -ne 0 ]; then
        say "up did not finish; stopping whatever it started in $up_dir (logs stay there)"
        down "$up_dir"
    fi
    return "$status"
}

trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

is_root() { [ "$(id -u)" -eq 0 ]; }

as_root() {
    if is_root; then "$@"; else sudo "$@"; fi
}

# Runs a command as USER, from FOLDER (which USER can enter: the caller's working folder may be closed to USER).
run_as() {
    local user=$1 folder=$2
    shift 2
    if [ "$user" = "$(id -un)" ]; then
        (cd "$folder" && "$@")
    elif command -v runuser >/dev/null 2>&1; then
        (cd "$folder" && runuser -u "$user" -- "$@")
    else
        # shellcheck disable=SC2016 # the inner shell expands them
        (cd "$folder" && su "$user" -s /bin/sh -c 'exec "$0" "$@"' "$@")
    fi
}

# Quotes a word for /bin/sh (pg_ctl passes -o through the shell).
sh_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

# ---------------------------------------------------------------------------------------------------------- install

package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

installed_packages() {
    dpkg-query -W -f='${db:Status-Status} ${Package}\n' 2>/dev/null | awk '$1 == "installed" { print $2 }' | sort -u
}

systemd_running() { [ -d /run/systemd/system ]; }

unit_state() {
    systemctl "$1" "$2.service" 2>/dev/null | head -n 1 || true
}

# Keeps the packages' services from starting while apt-get installs them: invoke-rc.d and deb-systemd-invoke ask
# /usr/sbin/policy-rc.d first, and exit status 101 means "do not start".
block_service_starts() {
    if [ -e "$policy" ]; then
        say "$policy already exists, so it is left as it is; it decides whether the packages' services start"
        return
    fi
    printf '#!/bin/sh\n# %s while apt-get installs its packages; removed right after.\n# 101: no service may start now.\nexit 101\n' \
        "$policy_marker" | as_root sh -c "set -C && cat >$policy && chmod 755 $policy" \
        || fail "could not write $policy to keep the packages' services from starting" \
            "nothing was installed" "hint: install the packages yourself: apt-get install ${missing[*]}"
    policy_created=1
    say "wrote a temporary $policy (exit 101) so that the install starts no service"
}

restore_service_policy() {
    [ -n "$policy_created" ] || return 0
    policy_created=""
    if grep -qF "$policy_marker" "$policy" 2>/dev/null; then
        if as_root rm -f "$policy"; then
            say "removed the temporary $policy again"
        else
            printf '%s: warning: could not remove the temporary %s; remove it yourself (no service can start while it is there)\n' \
                "$me" "$policy" >&2
        fi
    fi
}

install_missing() {
    local package
    missing=()
    for package in "${packages[@]}"; do
        package_installed "$package" || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if ! is_root && ! command -v sudo >/dev/null 2>&1; then
        fail "these Debian packages are missing: ${missing[*]}" \
            "installing them needs root, and sudo is not installed" \
            "hint: as root run: apt-get install ${missing[*]}   then run this again"
    fi
    say "installing the missing Debian packages with apt-get$(is_root || echo ' (through sudo)'): ${missing[*]}"

    local before after unit clusters_before
    declare -A enabled_before active_before
    before=$(installed_packages)
    clusters_before=$(ls -d /etc/postgresql/*/* 2>/dev/null || true)
    if systemd_running; then
        for unit in "${units[@]}"; do
            enabled_before[$unit]=$(unit_state is-enabled "$unit")
            active_before[$unit]=$(unit_state is-active "$unit")
        done
    fi

    block_service_starts
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 \
        || fail "apt-get update failed (its output is above)" "nothing was installed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
        || fail "apt-get install ${missing[*]} failed (its output is above)" \
            "hint: fix what apt-get reports, or install the packages yourself, then run this again"
    restore_service_policy

    after=$(installed_packages)
    local new
    new=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
    say "apt-get installed: ${new:-nothing new}"

    if systemd_running; then
        local enabled active
        for unit in "${units[@]}"; do
            enabled=$(unit_state is-enabled "$unit")
            active=$(unit_state is-active "$unit")
            if [ "$active" = active ] && [ "${active_before[$unit]}" != active ]; then
                if as_root systemctl stop "$unit.service"; then
                    say "stopped $unit.service, which the install had started"
                else
                    printf '%s: warning: could not stop %s.service; stop it yourself: systemctl stop %s\n' "$me" "$unit" "$unit" >&2
                fi
            fi
            if [ "$enabled" = enabled ] && [ "${enabled_before[$unit]}" != enabled ]; then
                if as_root systemctl disable --quiet "$unit.service"; then
                    say "disabled $unit.service, which the install had enabled (it would have started at every boot);" \
                        "'systemctl enable --now $unit' turns it on"
                else
                    printf '%s: warning: could not disable %s.service; it will start at boot: systemctl disable %s\n' \
                        "$me" "$unit" "$unit" >&2
                fi
            fi
        done
    fi
    local cluster state
    for cluster in $(comm -13 <(echo "$clusters_before") <(ls -d /etc/postgresql/*/* 2>/dev/null || true)); do
        cluster=${cluster#/etc/postgresql/}
        state=$(pg_lsclusters -h "${cluster%/*}" "${cluster#*/}" 2>/dev/null | awk '{ print "port " $3 ", " $4 }' || true)
        say "the postgresql package created its default cluster ${cluster%/*} ${cluster#*/} in" \
            "/var/lib/postgresql/$cluster (${state:-state unknown}); these scripts do not use it"
    done
}

require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        fail "the Swift 6 toolchain is not on PATH" "hint: install it from https://www.swift.org/install/linux/"
    fi
}

# ---------------------------------------------------------------------------------------------------------- programs

# Sets pg_bin to the newest installed PostgreSQL server's bin folder (Debian keeps it off PATH).
find_pg_bin() {
    local dir
    # shellcheck disable=SC2012 # Debian's version folders are plain numbers
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV || true); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            pg_bin=$dir
            return
        fi
    done
    fail "the PostgreSQL server programs (initdb, pg_ctl, postgres) are not in /usr/lib/postgresql/*/bin" \
        "hint: scripts/services.sh install (Debian package postgresql)"
}

# Sets mosquitto to the broker program: it is in /usr/sbin, which is not on a normal user's PATH.
find_mosquitto() {
    mosquitto=$(command -v mosquitto 2>/dev/null || true)
    if [ -z "$mosquitto" ] && [ -x /usr/sbin/mosquitto ]; then
        mosquitto=/usr/sbin/mosquitto
    fi
    if [ -z "$mosquitto" ]; then
        fail "mosquitto is neither on PATH nor at /usr/sbin/mosquitto" \
            "hint: scripts/services.sh install (Debian package mosquitto)"
    fi
}

# ---------------------------------------------------------------------------------------------------------- ports

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sets port to a random loopback port in 20000-45000 that nothing listens on and that is not among the arguments.
free_port() {
    local taken
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 25000))
        for taken in "$@"; do
            [ "$port" != "$taken" ] || continue 2
        done
        port_in_use "$port" || return 0
    done
    fail "no free loopback port found in 20000-45000 after 100 tries"
}

# ---------------------------------------------------------------------------------------------------------- test CA

# Signs a certificate for NAME (CN) with the CA in FOLDER/CA.pem: FOLDER/NAME.key and FOLDER/NAME.pem, with the given
# X.509v3 extensions (one per line, e.g. subjectAltName=DNS:localhost).
issue_certificate() {
    local folder=$1 ca=$2 name=$3 extensions=$4
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
        -keyout "$folder/$name.key" -out "$folder/$name.csr" 2>/dev/null
    printf '%s\n' "$extensions" >"$folder/$name.ext"
    openssl x509 -req -in "$folder/$name.csr" -CA "$folder/$ca.pem" -CAkey "$folder/$ca.key" -CAcreateserial \
        -days 365 -sha256 -extfile "$folder/$name.ext" -out "$folder/$name.pem" 2>/dev/null
    rm -f "$folder/$name.csr" "$folder/$name.ext"
}

# A test certificate authority in DIR/tls, made once and kept while its certificates are valid for another week:
#   ca.pem/.key            the test CA
#   server.pem/.key        `localhost`: subjectAltName DNS:localhost, IP:127.0.0.1 (PostgreSQL, brokers, HTTP)
#   other-host.pem/.key    signed by the test CA for DNS:other-host.invalid only: the wrong-hostname cases
#   client.pem/.key        a client certificate (CN gateway-test-client, extendedKeyUsage clientAuth)
#   wrong-ca.pem/.key      a second CA that signed none of the above
#   wrong-client.pem/.key  a client certificate signed by the wrong CA
# Keys are P-256 (fast to make) and readable by anyone: test material only, never a production secret.
make_test_ca() {
    local folder=$1/tls
    command -v openssl >/dev/null 2>&1 || fail "openssl is not installed" "hint: scripts/services.sh install"
    if [ -f "$folder/complete" ] && openssl x509 -checkend 604800 -noout -in "$folder/ca.pem" >/dev/null 2>&1 \
        && openssl x509 -checkend 604800 -noout -in "$folder/server.pem" >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$folder"
    mkdir -p "$folder"
    local name
    for name in ca wrong-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 400 -sha256 \
            -subj "/CN=meter-gateway $name (test only)" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$folder/$name.key" -out "$folder/$name.pem" \
            2>/dev/null
    done
    issue_certificate "$folder" ca server \
        "$(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth')"
    issue_certificate "$folder" ca other-host \
        "$(printf 'subjectAltName=DNS:other-host.invalid\nextendedKeyUsage=serverAuth')"
    issue_certificate "$folder" ca client "extendedKeyUsage=clientAuth"
    issue_certificate "$folder" wrong-ca wrong-client "extendedKeyUsage=clientAuth"
    chmod 755 "$folder"
    chmod 644 "$folder"/*
    : >"$folder/complete"
    say "made a test CA in $folder (certificates for localhost / 127.0.0.1, a client, a wrong CA)"
}

# Gives PostgreSQL its own copy of the test server certificate and key: the server refuses a key that others can read.
install_pg_certificate() {
    local dir=$1 owner=$2
    mkdir -p "$pg_dir/tls"
    cp "$dir/tls/server.pem" "$dir/tls/server.key" "$pg_dir/tls/"
    chmod 700 "$pg_dir/tls"
    chmod 600 "$pg_dir/tls/server.key"
    if is_root; then chown -R "$owner" "$pg_dir/tls"; fi
}

# ---------------------------------------------------------------------------------------------------------- up

# PostgreSQL's folder for DIR (data/, logs, socket): DIR/pg, or where the link DIR/pg points.
pg_folder_of() {
    local dir=$1
    if [ -L "$dir/pg" ]; then readlink "$dir/pg"; else echo "$dir/pg"; fi
}

# Whether the postgres user can reach and write FOLDER.
postgres_can_use() {
    run_as postgres / test -x "$1" -a -w "$1" 2>/dev/null
}

# Sets pg_dir to the folder for DIR's PostgreSQL: DIR/pg, or (as root, when postgres cannot enter DIR) a private folder
# under /var/tmp that DIR/pg links to.
place_pg() {
    local dir=$1
    if [ -L "$dir/pg" ]; then
        pg_dir=$(readlink "$dir/pg")
        [ -d "$pg_dir/data" ] || fail "the PostgreSQL data of $dir was in $pg_dir ($dir/pg links there), which is gone" \
            "hint: scripts/services.sh clean $dir   deletes the state, and up then starts afresh with empty servers"
        return
    fi
    pg_dir=$dir/pg
    mkdir -p "$pg_dir"
    chmod 700 "$pg_dir" # Its Unix socket takes anyone who reaches it, as the superuser.
    is_root || return 0
    if [ -f "$pg_dir/data/PG_VERSION" ]; then
        postgres_can_use "$pg_dir" || fail "user postgres cannot reach the PostgreSQL data in $pg_dir" \
            "hint: scripts/services.sh clean $dir   deletes it, and up then puts the data where postgres can reach it"
        return
    fi
    if run_as postgres / test -x "$dir" 2>/dev/null && chown postgres:postgres "$pg_dir" 2>/dev/null \
        && chmod 700 "$pg_dir" && postgres_can_use "$pg_dir"; then
        return
    fi
    local base=/var/tmp
    [ -d "$base" ] && [ -w "$base" ] || base=/tmp
    rm -rf "$pg_dir"
    pg_dir=$(mktemp -d "$base/meter-gateway-pg.XXXXXX") || fail "could not create a folder for PostgreSQL in $base"
    chown postgres:postgres "$pg_dir" || fail "could not give $pg_dir to user postgres"
    chmod 700 "$pg_dir"
    ln -s "$pg_dir" "$dir/pg"
    postgres_can_use "$pg_dir" || fail "user postgres cannot use $pg_dir either" \
        "hint: check the permissions of $base (it should be mode 1777)"
    say "user postgres cannot enter $dir, so PostgreSQL's data lives in $pg_dir ($dir/pg links there;" \
        "'scripts/services.sh clean $dir' deletes both)"
}

pg_running() {
    local pid_file="$1/data/postmaster.pid" pid
    [ -f "$pid_file" ] || return 1
    pid=$(head -n 1 "$pid_file" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

mqtt_pid_of() {
    local dir=$1 pid
    [ -f "$dir/mqtt/pid" ] || return 1
    pid=$(cat "$dir/mqtt/pid" 2>/dev/null || true)
    [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$dir/mqtt/mosquitto.conf" || return 1
    echo "$pid"
}

start_pg() {
    local dir=$1 bin=$2 owner=$3 port=$4
    if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
        if [ -d "$pg_dir/data" ] && [ -n "$(ls -A "$pg_dir/data" 2>/dev/null)" ]; then
            fail "$pg_dir/data holds files but no PostgreSQL data (no PG_VERSION), so initdb cannot use it" \
                "hint: scripts/services.sh clean $dir   deletes the state, and up then starts afresh"
        fi
        if ! run_as "$owner" "$pg_dir" "$bin/initdb" -D "$pg_dir/data" -A trust -U postgres \
            --locale=C.UTF-8 --encoding=UTF8 >"$pg_dir/initdb.log" 2>&1; then
            fail "initdb could not create PostgreSQL's data folder $pg_dir/data (run as user $owner)" \
                "$(log_tail "$pg_dir/initdb.log")" \
                "hint: check that user $owner can write $pg_dir; 'scripts/services.sh clean $dir' starts afresh"
        fi
    fi
    # Loopback connections are trusted, except for members of meter_gateway_password_required: those must give their
    # password (scram-sha-256), so that the secrets end-to-end test can show a password protecting a role. The rule is
    # written over the file in place (its owner stays the server's user), once.
    local hba="$pg_dir/data/pg_hba.conf"
    local rule="host all +meter_gateway_password_required 127.0.0.1/32 scram-sha-256"
    if [ -f "$hba" ] && ! grep -qxF "$rule" "$hba"; then
        local rules
        rules=$(cat "$hba")
        printf '%s\n%s\n' "$rule" "$rules" >"$hba"
    fi
    local socket_option
    socket_option="-k $(sh_quote "$pg_dir")"
    if [ $((${#pg_dir} + 18)) -gt 107 ]; then
        socket_option="-k ''" # A Unix socket path this long does not fit; clients use TCP anyway.
    fi
    local log_size
    log_size=$(stat -c %s "$pg_dir/server.log" 2>/dev/null || echo 0)
    # max_connections: the test suite runs several whole gateways at once (each holds its ingest, validation,
    # dispatch, LISTEN and HTTP connections); PostgreSQL's default of 100 ran out.
    if ! run_as "$owner" "$pg_dir" "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
        -o "-p $port $socket_option -c listen_addresses=127.0.0.1 -c fsync=on -c ssl=on -c max_connections=300 \
            -c ssl_cert_file=$(sh_quote "$pg_dir/tls/server.pem") -c ssl_key_file=$(sh_quote "$pg_dir/tls/server.key")" \
        start >"$pg_dir/pg_ctl.log" 2>&1; then
        fail "PostgreSQL did not start on 127.0.0.1:$port (data folder $pg_dir/data, run as user $owner)" \
            "$(log_tail "$pg_dir/pg_ctl.log" 5)" "$(log_tail "$pg_dir/server.log" 25 "$log_size")" \
            "hint: if another program took port $port meanwhile, run up again (it picks new ports);" \
            "otherwise the log says what is wrong; 'scripts/services.sh clean $dir' starts afresh"
    fi
}

start_mosquitto() {
    local dir=$1 program=$2 port=$3
    local log="$dir/mqtt/broker.log"
    mkdir -p "$dir/mqtt"
    # The broker logs to its stderr, which goes to a file opened here: as root it drops to user mosquitto, which could
    # not open a file in a folder closed to it (the clone in root's home).
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nset_tcp_nodelay true\nlog_dest stderr\n' \
        "$port" >"$dir/mqtt/mosquitto.conf"
    : >"$log"
    # Not -d: as root the broker drops privileges and could not write a pid file; keep it a child we track.
    nohup "$program" -c "$dir/mqtt/mosquitto.conf" >>"$log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$dir/mqtt/pid"
    local alive=1
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { alive=0; break; }
        if port_in_use "$port"; then
            sleep 0.2 # A broker that could not bind exits at once; make sure the listener is ours.
            kill -0 "$pid" 2>/dev/null || alive=0
            break
        fi
        sleep 0.1
    done
    if [ "$alive" -eq 0 ] || ! port_in_use "$port"; then
        local status="did not listen within 10 s"
        if [ "$alive" -eq 0 ]; then
            wait "$pid" 2>/dev/null && status="exited" || status="exited with status $?"
        fi
        fail "mosquitto ($program) did not start on 127.0.0.1:$port: it $status" \
            "configuration: $dir/mqtt/mosquitto.conf" "$(log_tail "$log")" \
            "hint: if another program took port $port meanwhile, run up again (it picks new ports)"
    fi
}

up() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    if pg_running "$(pg_folder_of "$dir")" || mqtt_pid_of "$dir" >/dev/null; then
        fail "servers for $dir are already running (see $dir/env)" "hint: scripts/services.sh down $dir   stops them"
    fi
    local pg_bin mosquitto owner port pg_port mqtt_port http_port
    find_pg_bin
    find_mosquitto
    owner=$(id -un)
    if is_root; then
        owner=postgres
        id postgres >/dev/null 2>&1 || fail "user postgres does not exist; as root the PostgreSQL server runs as postgres" \
            "hint: scripts/services.sh install (the postgresql package creates the user)"
    fi
    free_port && pg_port=$port
    free_port "$pg_port" && mqtt_port=$port
    free_port "$pg_port" "$mqtt_port" && http_port=$port
    rm -f "$dir/env"

    up_dir=$dir # From here on a failure stops what was started.
    make_test_ca "$dir"
    place_pg "$dir"
    install_pg_certificate "$dir" "$owner"
    start_pg "$dir" "$pg_bin" "$owner" "$pg_port"
    start_mosquitto "$dir" "$mosquitto" "$mqtt_port"

    cat >"$dir/env" <<EOF
# PostgreSQL $(basename "$(dirname "$pg_bin")") data: $pg_dir/data (server run as $owner); mosquitto: $mosquitto
export PG_PORT=$pg_port
export MQTT_PORT=$mqtt_port
export HTTP_PORT=$http_port
# Plain, as before the server had TLS: the suites that test TLS ask for it (sslmode=verify-full) themselves.
export GATEWAY_TEST_PG="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres sslmode=disable"
export MQTT_TEST_PORT=$mqtt_port
export GATEWAY_TEST_TLS_DIR=$dir/tls
EOF
    up_dir=""
    say "PostgreSQL on 127.0.0.1:$pg_port (data in $pg_dir/data), mosquitto on 127.0.0.1:$mqtt_port (state in $dir)"
}

# ---------------------------------------------------------------------------------------------------------- down

down() {
    local dir=$1 status=0
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd -P)
    local pid
    if pid=$(mqtt_pid_of "$dir"); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
        say "stopped mosquitto (pid $pid) of $dir"
    fi
    rm -f "$dir/mqtt/pid"
    local folder owner pg_bin
    folder=$(pg_folder_of "$dir")
    if pg_running "$folder"; then
        owner=$(stat -c %U "$folder/data")
        find_pg_bin
        if ! run_as "$owner" "$folder" "$pg_bin/pg_ctl" -D "$folder/data" -m fast -w -t 60 stop \
            >"$folder/pg_ctl.log" 2>&1; then
            printf '%s: error: PostgreSQL in %s/data did not stop\n  %s\n  %s\n' "$me" "$folder" \
                "$(log_tail "$folder/pg_ctl.log" 5)" "$(log_tail "$folder/server.log" 10)" >&2
            status=1
        else
            say "stopped PostgreSQL of $dir$([ -n "${cleaning:-}" ] || echo " (its data stays in $folder/data)")"
        fi
    fi
    return "$status"
}

clean() {
    local dir=$1
    [ -e "$dir" ] || [ -L "$dir" ] || return 0
    dir=$(cd "$dir" && pwd -P)
    local cleaning=1
    down "$dir" || fail "not deleting $dir while its PostgreSQL may still run" "hint: stop it, then run clean again"
    if [ -L "$dir/pg" ]; then
        local target
        target=$(readlink "$dir/pg")
        case "$target" in
            /var/tmp/meter-gateway-pg.* | /tmp/meter-gateway-pg.*)
                if [ -e "$target" ]; then
                    rm -rf "$target"
                    say "deleted PostgreSQL's data in $target"
                fi
                ;;
            *) say "$dir/pg links to $target, which these scripts did not create; left as it is" ;;
        esac
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    install) install_missing; require_swift ;;
    up) install_missing; up "${2:?usage: services.sh up DIR}" ;;
    down) down "${2:?usage: services.sh down DIR}" ;;
    clean) clean "${2:?usage: services.sh clean DIR}" ;;
    *) echo "usage: $0 install | up DIR | down DIR | clean DIR" >&2; exit 64 ;;
esac
