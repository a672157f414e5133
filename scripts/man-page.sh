#!/bin/sh
# Writes .local/man/meter-gateway.1 (git-ignored; or the path given as the first argument), the man page, from the
# command definitions.
#
# swift-argument-parser's generate-manual plugin (from the package copy SwiftPM already has; no network) builds the
# package, runs `meter-gateway --experimental-dump-help` (the command tree as JSON: every subcommand, option, value
# set, default and discussion) and renders it as mdoc. Run it again after changing a command;
# `man ./.local/man/meter-gateway.1` shows the result, and the .deb (issue 14 point 7) can install it as
# /usr/share/man/man1/meter-gateway.1.
set -eu
cd "$(dirname "$0")/.."
target=${1:-.local/man/meter-gateway.1}
swift package plugin generate-manual --authors "meter-gateway developers" --section 1
out=$(find .build/plugins/GenerateManual/outputs -name meter-gateway.1 | head -n 1)
[ -n "$out" ] || { echo "man-page.sh: the plugin wrote no meter-gateway.1" >&2; exit 1; }
mkdir -p "$(dirname "$target")"
cp "$out" "$target"
echo "wrote $target ($(wc -l <"$target") lines)"
