#!/usr/bin/env bash
# The Python venv of the test scripts (.local/openapi-venv, made with Debian's python3-venv), with pinned packages from
# PyPI. Sourced by scripts/openapi-check.sh and scripts/console-check.sh:
#   source scripts/venv.sh; ensure_venv 'pkg==1.2' …     installs what the venv lacks; sets $venv
venv=".local/openapi-venv"

# Installs each requirement that pip does not already see satisfied in the venv (made on first use).
ensure_venv() {
    if [ ! -x "$venv/bin/pip" ]; then
        local python=/usr/bin/python3
        [ -x "$python" ] || python=python3
        "$python" -m venv "$venv"
    fi
    local missing=()
    local requirement
    for requirement in "$@"; do
        # name==version must be installed at that version; other requirements only installed.
        "$venv/bin/python" -c "import importlib.metadata as m, re, sys
name, _, pinned = re.split(r'([=<>!~]=?)', sys.argv[1], maxsplit=1)[0], 0, sys.argv[1].partition('==')[2]
version = m.version(name.strip())
sys.exit(0 if not pinned or version == pinned else 1)" "$requirement" 2>/dev/null || missing+=("$requirement")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "venv: installing ${missing[*]} from PyPI into $venv"
        "$venv/bin/pip" install -q "${missing[@]}"
    fi
}
