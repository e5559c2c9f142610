#!/usr/bin/env bash
# Installs what `make bench` drives the router with, when missing: wrk (the load generator,
# Debian package `wrk`) and taskset (util-linux, present on Debian). `perf` (linux-perf) is
# only needed for the profile described in BENCHMARKS.md, not by `make bench`.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bench-tools: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "bench-tools: need root (or sudo) to apt-get install ${missing[*]}" >&2
        exit 1
    }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
