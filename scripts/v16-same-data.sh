#!/usr/bin/env bash
# The time-series rows of a gateway database in the v16 layout (the schema before issue 13's storage work), for a
# before/after comparison of bytes per meter-day ON THE SAME DATA: creates schema v16 in that database (dropping an
# earlier one), lets the gateway's own migrations build the v16 schema there (`migrate --to-version 16` with
# search_path v16), copies the rows as v16 would have written them (scripts/sql/copy-to-v16.sql), runs VACUUM ANALYZE
# and prints the conninfo that sees the copy (search_path v16), for scripts/sql/bytes-per-meter-day.sql.
# Usage: scripts/v16-same-data.sh CONFIG      (CONFIG: the gateway's TOML, whose [postgres] conninfo is the database;
#                                               GATEWAY_BIN: default .build/release/meter-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:?usage: scripts/v16-same-data.sh CONFIG}
bin=${GATEWAY_BIN:-.build/release/meter-gateway}
conninfo=$(sed -n 's/^conninfo = "\(.*\)"$/\1/p' "$config")
v16_conninfo="$conninfo options='-csearch_path=v16'"
psql -q -v ON_ERROR_STOP=1 "$conninfo" -c 'DROP SCHEMA IF EXISTS v16 CASCADE' -c 'CREATE SCHEMA v16' >/dev/null 2>&1
v16_config=$(mktemp)
trap 'rm -f "$v16_config" "$v16_config.log"' EXIT
sed "s|^conninfo = .*|conninfo = \"$v16_conninfo\"|" "$config" >"$v16_config"
if ! "$bin" migrate --config "$v16_config" --to-version 16 >"$v16_config.log" 2>&1; then
    echo "v16-same-data.sh: migrate --to-version 16 failed:" >&2
    cat "$v16_config.log" >&2
    exit 1
fi
psql -X -q -v ON_ERROR_STOP=1 -f scripts/sql/copy-to-v16.sql "$conninfo" >/dev/null
psql -q "$v16_conninfo" -c 'VACUUM ANALYZE' >/dev/null
echo "$v16_conninfo"
