#!/bin/sh
# Writes the man page, meter-gateway(1), from the command definitions: .local/man/meter-gateway.1 (git-ignored), or
# the path given as the first argument.
#
#   scripts/man-page.sh [TARGET [BINARY]]     BINARY: a built meter-gateway (default .build/debug/meter-gateway,
#                                             built with `swift build --product meter-gateway` when missing)
#
# swift-argument-parser's `--experimental-dump-help` prints the command tree as JSON (every subcommand, option,
# value set, default and discussion); scripts/man_page.py renders it as man(7). Offline and without a second build:
# the generate-manual plugin (`swift package plugin generate-manual`) would build the whole package again in its own
# folder (slow on this shared 2-core machine, and never checked offline here). Run it again after changing
# a command; `man -l .local/man/meter-gateway.1` shows the result; scripts/build-deb.sh installs it as
# /usr/share/man/man1/meter-gateway.1.gz.
set -eu
cd "$(dirname "$0")/.."
target=${1:-.local/man/meter-gateway.1}
binary=${2:-.build/debug/meter-gateway}
if [ ! -x "$binary" ]; then
    swift build --product meter-gateway >&2
fi
mkdir -p "$(dirname "$target")"
"$binary" --experimental-dump-help | python3 scripts/man_page.py >"$target.tmp"
mv "$target.tmp" "$target"
echo "wrote $target ($(wc -l <"$target") lines)" >&2
