#!/usr/bin/env bash
# Installs what is missing, starts private PostgreSQL and mosquitto servers, and runs every test against them.
# Usage: scripts/test.sh            (the README's test command; .ci/run runs exactly this)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
trap 'echo "test.sh: error: line $LINENO failed (exit status $?): $(sed -n "$LINENO s/^ *//p" "$0")" >&2' ERR

scripts/services.sh install
state=".local/test-$$"
# Stops the servers and deletes their state, including PostgreSQL's data where it had to live outside the clone.
cleanup() { scripts/services.sh clean "$state"; }
trap cleanup EXIT
scripts/services.sh up "$state"
# shellcheck disable=SC1091
source "$state/env"

echo "== build (warnings are errors)"
swift build --build-tests -Xswiftc -warnings-as-errors
export GATEWAY_TEST_BIN="$PWD/.build/debug/meter-gateway"

echo "== tests against PostgreSQL :$PG_PORT and mosquitto :$MQTT_PORT"
swift test --skip-build --parallel --num-workers 2

echo "== OpenAPI: openapi-spec-validator on /openapi.json and schemathesis against a live gateway (seeded database)"
scripts/openapi-check.sh

echo "== dispatch console in headless Chromium: sign-in, live list (methane alarm -> P0 row within 2 s), steps, pages"
scripts/console-check.sh

echo "== fault campaign (short): kills, database and broker faults, full spool disk, hostile burst; own servers"
# scripts/faults.sh --long runs the same faults longer, with more meters (see README "Fault campaign").
scripts/faults.sh --short

echo "== fuzz smoke run: every decoder for 60 s under libFuzzer + AddressSanitizer"
# Longer runs: firmware-protocols/README.md. New inputs go to a scratch corpus, never into the committed one.
swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
    --product FrameFuzzer --scratch-path .build-fuzz 2>&1 | tail -n 1
rm -rf .build-fuzz/smoke-corpus && mkdir -p .build-fuzz/smoke-corpus
SWIFT_BACKTRACE=enable=no ./.build-fuzz/release/FrameFuzzer .build-fuzz/smoke-corpus \
    firmware-protocols/corpus/native firmware-protocols/corpus/cjt188 firmware-protocols/corpus/wmbus \
    firmware-protocols/corpus/mbus firmware-protocols/corpus/wmbus-drivers \
    -max_total_time=60 -max_len=1100 -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)|Done [0-9]+ runs"

