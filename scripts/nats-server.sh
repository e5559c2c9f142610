#!/usr/bin/env bash
# Installs Debian's `nats-server` when missing (the cluster tests and benchmarks start their
# own on loopback) and prints its path. Idempotent and quiet when present.
set -euo pipefail

log() { echo "nats-server: $*" >&2; }

# Tests start several servers at once: one install at a time (dpkg takes a lock of its own
# and fails rather than waits).
exec 9>"${TMPDIR:-/tmp}/switchyard-nats-server-install.lock"
flock 9
if ! command -v nats-server >/dev/null 2>&1; then
    log "installing nats-server (Debian)"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            log "need root (or sudo) to apt-get install nats-server"
            exit 1
        }
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends nats-server >&2
fi
command -v nats-server
