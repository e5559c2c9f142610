#!/usr/bin/env bash
# Makes a Rust toolchain that can build `wasm32-unknown-unknown` plugins available and
# prints its settings as shell assignments (GUEST_CARGO, GUEST_RUSTC, GUEST_BUILD_STD).
#
# Order of preference, cheapest first (the script must be quick when a toolchain exists):
#   1. rustup's toolchain already has the wasm32-unknown-unknown std installed;
#   2. Debian's rustc-web (ships the std *source*; we build std with -Zbuild-std);
#   3. `rustup target add` when static.rust-lang.org is reachable;
#   4. install Debian's rustc-web/cargo-web/rust-web-src/lld-22 with apt-get.
# Offline machines of our CI kind only reach the Debian/crates.io registries, so 3 is
# skipped there after a 5-second probe and 4 is what runs.
set -euo pipefail

TARGET=wasm32-unknown-unknown
# rust-web-llvm provides the /usr/bin/rust-lld link the wasm target links with.
DEBIAN_PKGS=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)

log() { echo "guest-toolchain: $*" >&2; }

rustup_has_target() {
    command -v rustup >/dev/null 2>&1 &&
        rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}

debian_ready() {
    # rustc-web's std source lives under its sysroot; rust-lld comes from lld-22.
    [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && [ -x /usr/bin/rust-lld ] &&
        [ -d "$(/usr/bin/rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ]
}

emit_rustup() {
    echo "GUEST_CARGO=$(command -v cargo)"
    echo "GUEST_RUSTC=$(command -v rustc)"
    echo "GUEST_BUILD_STD=0"
}

emit_debian() {
    echo "GUEST_CARGO=/usr/bin/cargo"
    echo "GUEST_RUSTC=/usr/bin/rustc"
    echo "GUEST_BUILD_STD=1"
}

# SWITCHYARD_GUEST_TOOLCHAIN=debian skips rustup entirely (CI uses it to exercise the
# offline path even where rustup could download); =rustup refuses the Debian fallback.
CHOICE=${SWITCHYARD_GUEST_TOOLCHAIN:-auto}

if [ "$CHOICE" != debian ] && rustup_has_target; then
    emit_rustup
    exit 0
fi
if debian_ready; then
    emit_debian
    exit 0
fi
if [ "$CHOICE" != debian ] && command -v rustup >/dev/null 2>&1 &&
    curl -fsS --max-time 5 -o /dev/null https://static.rust-lang.org/dist/channel-rust-stable.toml.sha256 2>/dev/null; then
    log "adding the $TARGET target with rustup (about 20 s, once)"
    if timeout 120 rustup target add "$TARGET" >&2 && rustup_has_target; then
        emit_rustup
        exit 0
    fi
    log "rustup target add failed; falling back to Debian's rustc-web"
fi

if [ "$CHOICE" = rustup ]; then
    log "SWITCHYARD_GUEST_TOOLCHAIN=rustup but rustup cannot provide $TARGET"
    exit 1
fi
log "installing Debian packages: ${DEBIAN_PKGS[*]} (about a minute, once; the first build then compiles std, about 2 min)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        log "need root (or sudo) to apt-get install ${DEBIAN_PKGS[*]}"
        exit 1
    }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${DEBIAN_PKGS[@]}" >&2
debian_ready || {
    log "Debian packages installed but the toolchain is incomplete (no std source or rust-lld)"
    exit 1
}
emit_debian
