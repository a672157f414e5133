#!/usr/bin/env bash
# The dispatch console in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by selenium
# (PyPI, pinned, in the venv of scripts/venv.sh) against a live gateway on a fresh database (scripts/console_check.py
# says what it asserts). Screenshots of the live list and of a ticket page are kept in .local/artifacts/.
#
# Usage: scripts/console-check.sh     with the servers of `scripts/services.sh up DIR` and DIR/env sourced (PG_PORT,
#                                     MQTT_PORT, HTTP_PORT), meter-gateway built (debug, or GATEWAY_TEST_BIN);
#                                     scripts/test.sh runs it so. Takes about 30-60 s on 2 cores.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
trap 'echo "console-check.sh: error: line $LINENO failed (exit status $?): $(sed -n "$LINENO s/^ *//p" "$0")" >&2' ERR

: "${PG_PORT:?source the env of scripts/services.sh up DIR first}" "${MQTT_PORT:?}" "${HTTP_PORT:?}"
bin="${GATEWAY_TEST_BIN:-$PWD/.build/debug/meter-gateway}"
work=".local/console-check"
artifacts=".local/artifacts"
for tool in chromium chromedriver; do
    command -v "$tool" >/dev/null || { echo "console-check: $tool is missing (scripts/services.sh install)" >&2; exit 1; }
done

# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv 'selenium==4.27.1'

rm -rf "$work" && mkdir -p "$work/spool" "$artifacts"
database="console_check_$$"
admin="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
psql -q "$admin" -c "CREATE DATABASE $database" >/dev/null

# A dispatcher and a billing clerk; the tokens are made here and never leave this run.
dispatch_token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
billing_token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cat >"$work/gateway.toml" <<CONF
[mqtt]
host = "127.0.0.1"
port = $MQTT_PORT
client_id = "meter-gateway-console-$$"

[postgres]
conninfo = "host=127.0.0.1 port=$PG_PORT user=postgres dbname=$database"

[spool]
directory = "$PWD/$work/spool"

[http]
host = "127.0.0.1"
port = $HTTP_PORT

[[http.credentials]]
name = "desk-7.li"
roles = ["dispatch"]
token_sha256 = "$(hash "$dispatch_token")"

[[http.credentials]]
name = "billing-feed"
roles = ["billing"]
token_sha256 = "$(hash "$billing_token")"
CONF

gateway=""
stop() {
    if [ -n "$gateway" ]; then kill "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null || true; fi
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
}
trap stop EXIT

"$bin" migrate --config "$work/gateway.toml" >"$work/migrate.log" 2>&1
# The simulated fleet's meters and keys (its scripted alarms start with a methane alarm on its second meter).
"$bin" simulate --config "$work/gateway.toml" --meters 10 --provision-only >"$work/provision.log" 2>&1

"$bin" run --config "$work/gateway.toml" >"$work/gateway.log" 2>&1 &
gateway=$!
base="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 1 100); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$gateway" 2>/dev/null || { echo "console-check: the gateway exited; its log:" >&2; tail -n 30 "$work/gateway.log" >&2; exit 1; }
    sleep 0.2
done

CONSOLE_BASE="$base" DISPATCH_TOKEN="$dispatch_token" BILLING_TOKEN="$billing_token" GATEWAY_BIN="$bin" \
    GATEWAY_CONFIG="$work/gateway.toml" ARTIFACTS="$artifacts" WORK="$work" SE_OFFLINE=true \
    DATABASE="host=127.0.0.1 port=$PG_PORT user=postgres dbname=$database" \
    "$venv/bin/python" scripts/console_check.py
if grep -q "$dispatch_token" "$work/gateway.log"; then
    echo "console-check: the gateway logged the dispatcher's token" >&2
    exit 1
fi
