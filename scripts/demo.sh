#!/usr/bin/env bash
# Installs what is missing, starts a private mosquitto and PostgreSQL under .local/demo, runs the gateway with a
# simulated meter fleet for a bounded time, prints what happened, then stops everything.
# Usage: scripts/demo.sh [extra `meter-gateway demo` options, e.g. --meters 200 --duration 60]
set -Eeuo pipefail
cd "$(dirname "$0")/.."
trap 'echo "demo.sh: error: line $LINENO failed (exit status $?): $(sed -n "$LINENO s/^ *//p" "$0")" >&2' ERR

scripts/services.sh install
state=".local/demo"
# A fresh start: the previous demo's servers stop and its data goes, also where PostgreSQL's data lived outside the clone.
scripts/services.sh clean "$state"
trap 'scripts/services.sh down "$state"' EXIT
scripts/services.sh up "$state"
# shellcheck disable=SC1091
source "$state/env"
psql -q "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" -c "CREATE DATABASE meter_gateway" >/dev/null

echo "== building meter-gateway"
swift build --product meter-gateway 2>&1 | tail -n 1

cat >"$state/gateway.toml" <<EOF
[mqtt]
host = "127.0.0.1"
port = $MQTT_PORT
client_id = "meter-gateway-demo"

[postgres]
conninfo = "host=127.0.0.1 port=$PG_PORT user=postgres dbname=meter_gateway"

[spool]
directory = "$PWD/$state/spool"

[http]
port = $HTTP_PORT

[validation]
# The simulated fleet's meters run China Standard Time; bill by their days. A short delay so the demo's summary
# shows validated data (production default: 60 s).
billing_day_utc_offset_minutes = 480
delay_seconds = 2
EOF

.build/debug/meter-gateway demo --config "$state/gateway.toml" "$@"

where="$state"
if [ -L "$state/pg" ]; then
    # As root in a folder the postgres user cannot enter, PostgreSQL's data lives outside the clone (services.sh).
    where="$state, with PostgreSQL's data in $(readlink "$state/pg") ($state/pg links there)"
fi
cat <<EOF

The servers stop now; the data stays in $where. To look at it with psql later:
  scripts/services.sh up $state && source $state/env
  psql "host=127.0.0.1 port=\$PG_PORT user=postgres dbname=meter_gateway"
  -- e.g.  SELECT * FROM repair_tickets;  SELECT reason, count(*) FROM quarantine GROUP BY 1;
  scripts/services.sh down $state
To delete it all:  scripts/services.sh clean $state
EOF
