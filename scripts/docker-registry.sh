#!/usr/bin/env bash
# Installs Debian's `docker-registry` (the CNCF distribution registry) when missing — the OCI
# tests start their own on loopback — and prints its path. Idempotent and quiet when present.
set -euo pipefail

log() { echo "docker-registry: $*" >&2; }

# Tests may start several at once: one install at a time (dpkg takes a lock of its own and
# fails rather than waits).
exec 9>"${TMPDIR:-/tmp}/switchyard-docker-registry-install.lock"
flock 9
if ! command -v docker-registry >/dev/null 2>&1; then
    log "installing docker-registry (Debian)"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            log "need root (or sudo) to apt-get install docker-registry"
            exit 1
        }
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    # The package enables a system service on port 5000; the tests start their own instead.
    $SUDO apt-get install -y -qq --no-install-recommends docker-registry >&2
fi
command -v docker-registry
