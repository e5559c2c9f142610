#!/usr/bin/env bash
# Installs a Debian package when its command is missing and prints the command's path; the
# tests and benchmarks use it for the servers they start on loopback (nats-server,
# docker-registry). Idempotent and quiet when present.
#
#   bash scripts/debian-package.sh PACKAGE [COMMAND]     # COMMAND defaults to PACKAGE
set -euo pipefail

PACKAGE=${1:?usage: debian-package.sh PACKAGE [COMMAND]}
COMMAND=${2:-$PACKAGE}
log() { echo "$PACKAGE: $*" >&2; }

# Tests start several servers at once: one install at a time (dpkg takes a lock of its own
# and fails rather than waits).
exec 9>"${TMPDIR:-/tmp}/switchyard-$PACKAGE-install.lock"
flock 9
if ! command -v "$COMMAND" >/dev/null 2>&1; then
    log "installing $PACKAGE (Debian)"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            log "need root (or sudo) to apt-get install $PACKAGE"
            exit 1
        }
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends "$PACKAGE" >&2
fi
command -v "$COMMAND"
