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
        "$venv/bin/python" -c "import importlib.metadata as m, sys; from packaging.requirements import Requirement as R
r = R(sys.argv[1]); sys.exit(0 if r.specifier.contains(m.version(r.name), prereleases=True) else 1)" \
            "$requirement" 2>/dev/null || missing+=("$requirement")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "venv: installing ${missing[*]} from PyPI into $venv"
        "$venv/bin/pip" install -q "${missing[@]}"
    fi
}
