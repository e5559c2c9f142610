#!/usr/bin/env bash
# Installs what the console's browser tests drive, when missing: Debian's `chromium` (run
# headless) and `playwright-core` from npm (the driver only; it downloads no browser), kept in
# $SWITCHYARD_TOOLS/browser (default ~/.cache/switchyard/tools/browser). Prints two lines:
# the node_modules directory and the chromium executable. Idempotent and quiet when present.
set -euo pipefail

PLAYWRIGHT_VERSION=1.65.1
TOOLS="${SWITCHYARD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/tools}/browser"

log() { echo "browser-tools: $*" >&2; }

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (Debian)"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            log "need root (or sudo) to apt-get install ${missing[*]}"
            exit 1
        }
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    # fonts-dejavu-core: text in screenshots renders the same on every machine.
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >&2
fi

installed="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$TOOLS/node_modules/playwright-core/package.json" 2>/dev/null | head -1 || true)"
if [ "$installed" != "$PLAYWRIGHT_VERSION" ]; then
    log "installing playwright-core@$PLAYWRIGHT_VERSION (npm) into $TOOLS"
    mkdir -p "$TOOLS"
    [ -f "$TOOLS/package.json" ] || echo '{"name":"switchyard-browser-tools","private":true}' > "$TOOLS/package.json"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "playwright-core@$PLAYWRIGHT_VERSION" >&2
fi

echo "$TOOLS/node_modules"
command -v chromium
