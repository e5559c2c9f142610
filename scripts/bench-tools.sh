#!/usr/bin/env bash
# Installs what `make bench` drives the router with, when missing: wrk (the load generator,
# Debian package `wrk`), nats-server (the cluster part) and taskset (util-linux, present on Debian); and, best effort, the
# Python and JavaScript plugin toolchains (componentize-py from PyPI, componentize-js from
# npm) for the per-language call cost — the benchmark skips those rows without them. `perf` (linux-perf) is only needed for
# scripts/profile.sh, not by `make bench`.
set -euo pipefail

if ! command -v componentize-py >/dev/null 2>&1 && command -v pip3 >/dev/null 2>&1; then
    echo "bench-tools: installing componentize-py (PyPI)" >&2
    pip3 install -q componentize-py==0.25.1 >&2 ||
        echo "bench-tools: componentize-py unavailable; the Python row of make bench is skipped" >&2
fi

# The cluster part starts its own nats-server (Debian's), like the cluster tests.
bash "$(dirname "$0")/nats-server.sh" >/dev/null

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
# The JavaScript plugin toolchain (componentize-js from npm), best effort, kept in target/.
JS_TOOLS="$(dirname "$0")/../target/bench-tools"
if [ ! -x "$JS_TOOLS/node_modules/.bin/componentize-js" ] && command -v npm >/dev/null 2>&1; then
    echo "bench-tools: installing componentize-js (npm) into target/bench-tools" >&2
    mkdir -p "$JS_TOOLS"
    npm install --silent --prefix "$JS_TOOLS" @bytecodealliance/componentize-js@0.23.0 >&2 ||
        echo "bench-tools: componentize-js unavailable; the JavaScript row of make bench is skipped" >&2
fi

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
