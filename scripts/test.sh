#!/usr/bin/env bash
# Installs what is missing, starts private PostgreSQL and mosquitto servers, and runs every test against them.
# Usage: scripts/test.sh            (the README's test command; .ci/run runs exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh install
state=".local/test-$$"
cleanup() { scripts/services.sh down "$state"; rm -rf "$state"; }
trap cleanup EXIT
scripts/services.sh up "$state"
# shellcheck disable=SC1091
source "$state/env"

echo "== build (warnings are errors)"
swift build --build-tests -Xswiftc -warnings-as-errors
export GATEWAY_TEST_BIN="$PWD/.build/debug/meter-gateway"

echo "== tests against PostgreSQL :$PG_PORT and mosquitto :$MQTT_PORT"
swift test --skip-build --parallel --num-workers 2
