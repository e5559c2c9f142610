#!/usr/bin/env bash
# Installs what building and checking the Debian package needs, when missing: dpkg-deb
# (dpkg), dpkg-shlibdeps (dpkg-dev: the package's Depends), strip (binutils) and
# systemd-analyze (systemd: `verify`, `security` and the system-call groups of the unit's
# filter) and strace (the package test records the system calls the router makes). Debian and
# Ubuntu only.
set -euo pipefail

missing=()
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
command -v dpkg-shlibdeps >/dev/null 2>&1 || missing+=(dpkg-dev)
command -v strip >/dev/null 2>&1 || missing+=(binutils)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v strace >/dev/null 2>&1 || missing+=(strace)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "package-tools: missing ${missing[*]} and no apt-get to install them" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "package-tools: installing ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
