#!/bin/bash
# Builds the Debian package of the gateway with dpkg-deb:
#
#   scripts/build-deb.sh [--binary FILE] [--output DIR] [--layout-only] [--compression gzip|xz|none]
#
#   /usr/bin/meter-gateway                                the binary: FILE, or a release build made here with the
#                                                         Swift runtime linked in (--static-swift-stdlib, in
#                                                         .build-static/)
#   /lib/systemd/system/meter-gateway.service             config/meter-gateway.service
#   /etc/meter-gateway/meter-gateway.toml                 the documented example configuration (a conffile: an
#                                                         upgrade keeps the administrator's edits)
#   /usr/share/man/man1/meter-gateway.1.gz                scripts/man-page.sh, from the command definitions
#   /usr/share/bash-completion/completions/meter-gateway  completion scripts, from the command definitions
#   /usr/share/zsh/vendor-completions/_meter-gateway        (--generate-completion-script bash|zsh|fish)
#   /usr/share/fish/vendor_completions.d/meter-gateway.fish
#   /usr/share/doc/meter-gateway/{README.md,copyright}
#   /usr/share/meter-gateway/calendars/*.toml             config/calendars: the working calendars (complaints.calendar_dir)
#   postinst: creates the system user and group meter-gateway, makes the configuration readable by that group only,
#   reloads systemd. It does not start the service: the configuration must name the broker and database first.
#
# Depends: libmosquitto1, libpq5, and the package of every other shared library `ldd` shows (dpkg -S). A shared
# library that no Debian package provides (the Swift runtime of a toolchain in /opt) makes the script fail: the
# package would not run on a clean Debian. --layout-only skips that check (the test suite packs a debug binary to
# check the layout); such a package is for inspection only.
#
# Prints the path of the .deb on standard output.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
output=".local/deb"
layout_only=0
compression="xz"
while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    --layout-only) layout_only=1; shift ;;
    --compression) compression=$2; shift 2 ;;
    *) echo "build-deb.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -z "$binary" ]; then
    # A scratch folder of its own: the dynamically linked release build in .build/ (scripts/bench.sh) stays as it is.
    swift build -c release --product meter-gateway --static-swift-stdlib --scratch-path .build-static >&2
    binary=$(swift build -c release --scratch-path .build-static --show-bin-path)/meter-gateway
fi
[ -x "$binary" ] || { echo "build-deb.sh: $binary is not an executable" >&2; exit 1; }

version=$("$binary" --version | head -n 1 | tr -d '[:space:]')
# A Debian version starts with a digit and holds no '/' or '_'; `git describe` style suffixes become '+'.
debian_version=$(printf '%s' "$version" | sed -e 's/^v//' -e 's/[^A-Za-z0-9.+~]/+/g')
case "$debian_version" in [0-9]*) ;; *) debian_version="0+$debian_version" ;; esac
architecture=$(dpkg --print-architecture)

# Shared libraries -> Debian packages.
depends="libmosquitto1, libpq5"
foreign=()
while read -r library; do
    [ -n "$library" ] || continue
    if package=$(dpkg -S "$library" 2>/dev/null | head -n 1 | cut -d: -f1); then
        case ", $depends, " in *", $package, "*) ;; *) depends="$depends, $package" ;; esac
    else
        real=$(readlink -f "$library")
        if package=$(dpkg -S "$real" 2>/dev/null | head -n 1 | cut -d: -f1); then
            case ", $depends, " in *", $package, "*) ;; *) depends="$depends, $package" ;; esac
        else
            foreign+=("$library")
        fi
    fi
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
if [ ${#foreign[@]} -gt 0 ]; then
    if [ $layout_only -eq 0 ]; then
        echo "build-deb.sh: $binary needs libraries no Debian package provides: ${foreign[*]}" >&2
        echo "build-deb.sh: build it with --static-swift-stdlib (leave out --binary to have this script do it)" >&2
        exit 1
    fi
    echo "build-deb.sh: --layout-only: not self-sufficient, needs ${foreign[*]}" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/meter-gateway_${debian_version}_${architecture}"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/meter-gateway" \
    "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d" "$root/usr/share/doc/meter-gateway" \
    "$root/usr/share/meter-gateway/calendars"
install -m 0755 "$binary" "$root/usr/bin/meter-gateway"
install -m 0644 config/meter-gateway.service "$root/lib/systemd/system/meter-gateway.service"
install -m 0640 config/meter-gateway.example.toml "$root/etc/meter-gateway/meter-gateway.toml"
install -m 0644 config/calendars/*.toml "$root/usr/share/meter-gateway/calendars/"
scripts/man-page.sh "$stage/meter-gateway.1" "$binary"
gzip -9n <"$stage/meter-gateway.1" >"$root/usr/share/man/man1/meter-gateway.1.gz"
"$binary" --generate-completion-script bash >"$root/usr/share/bash-completion/completions/meter-gateway"
"$binary" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_meter-gateway"
"$binary" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/meter-gateway.fish"
install -m 0644 README.md "$root/usr/share/doc/meter-gateway/README.md"
printf '%s\n' "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
    "Upstream-Name: meter-gateway" "" "Files: *" "Copyright: meter-gateway developers" \
    "License: see the source repository" >"$root/usr/share/doc/meter-gateway/copyright"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: meter-gateway
Version: $debian_version
Architecture: $architecture
Maintainer: meter-gateway developers <meter-gateway@localhost>
Installed-Size: $installed_size
Depends: $depends, adduser
Section: net
Priority: optional
Homepage: https://localhost/meter-gateway
Description: gas-meter telemetry gateway: MQTT frames into PostgreSQL
 Receives meter frames over MQTT (libmosquitto), spools them durably, decodes
 and checks them, and stores readings, alarms and repair tickets in
 PostgreSQL (libpq). Runs as the systemd service meter-gateway.service with
 its configuration in /etc/meter-gateway/meter-gateway.toml.
CONTROL
echo "/etc/meter-gateway/meter-gateway.toml" >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if ! getent passwd meter-gateway >/dev/null; then
        adduser --system --group --home /var/lib/meter-gateway --no-create-home \
            --gecos "meter-gateway service" meter-gateway
    fi
    install -d -o meter-gateway -g meter-gateway -m 0750 /var/lib/meter-gateway
    # The configuration holds conninfos (and may hold secrets): root writes it, the service's group reads it.
    chown root:meter-gateway /etc/meter-gateway /etc/meter-gateway/meter-gateway.toml
    chmod 0750 /etc/meter-gateway
    chmod 0640 /etc/meter-gateway/meter-gateway.toml
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null || true
    fi
    echo "meter-gateway: edit /etc/meter-gateway/meter-gateway.toml, then: systemctl enable --now meter-gateway"
fi
exit 0
POSTINST
cat >"$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop meter-gateway.service >/dev/null 2>&1 || true
fi
exit 0
PRERM
cat >"$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
# The spool may hold frames not yet stored: it is kept even on purge; remove /var/lib/meter-gateway by hand.
exit 0
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$output"
deb="$output/meter-gateway_${debian_version}_${architecture}.deb"
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >&2
echo "$deb"
