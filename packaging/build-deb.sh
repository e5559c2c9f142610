#!/usr/bin/env bash
# Builds the Debian package from a built switchyard binary (`make deb` builds the release
# binary with the plugins inside, then runs this):
#
#   bash packaging/build-deb.sh [--fast] BINARY OUTDIR
#
# The package: /usr/bin/switchyard; /etc/switchyard/router.toml (a conffile, written by the
# binary's own `switchyard init` for the five vendors, data in /var/lib/switchyard);
# /etc/default/switchyard (secrets' environment, a conffile); the hardened systemd unit; man
# pages (the commands', and switchyard.toml(5) from the config reference) and bash/zsh/fish
# completions generated from the code; the docs. --fast compresses with
# gzip -1 (tests); a release uses xz. Needs dpkg-deb (Debian's dpkg) and gzip; strip and
# dpkg-shlibdeps are used when present.
set -euo pipefail

fast=0
if [ "${1:-}" = "--fast" ]; then
    fast=1
    shift
fi
if [ $# -ne 2 ]; then
    echo "usage: $0 [--fast] BINARY OUTDIR" >&2
    exit 2
fi
binary="$(realpath "$1")"
out="$(mkdir -p "$2" && realpath "$2")"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"

[ -x "$binary" ] || { echo "build-deb: $binary is not an executable (build it first: make build)" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }

# The version, from the binary itself: what is packaged is what reports it.
version="$("$binary" --version | head -n1 | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
builtins="$("$binary" plugin list --json | grep -c '"name"' || true)"
if [ "$builtins" -lt 9 ]; then
    echo "build-deb: $binary carries $builtins built-in plugins, not 9 (build the plugins before the binary: make deb)" >&2
    exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/switchyard_${version}_${arch}"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/etc/switchyard" "$root/etc/default" \
    "$root/lib/systemd/system" "$root/usr/share/man/man1" "$root/usr/share/man/man5" "$root/usr/share/doc/switchyard" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"

install -m 0755 "$binary" "$root/usr/bin/switchyard"
if command -v strip >/dev/null; then
    strip --strip-debug "$root/usr/bin/switchyard"
fi

# The packaged config: what `switchyard init` writes, pointed at the service's data dir.
"$root/usr/bin/switchyard" init "$root/etc/switchyard" \
    --vendor findface,omni,sensenebula,noahface,preservica \
    --data-dir /var/lib/switchyard >/dev/null
# Readable by the service's dynamic user; secrets live in /etc/default/switchyard or files.
chmod 0644 "$root/etc/switchyard/router.toml"
install -m 0640 "$here/default" "$root/etc/default/switchyard"
install -m 0644 "$here/switchyard.service" "$root/lib/systemd/system/switchyard.service"

"$root/usr/bin/switchyard" manpage "$stage/man"
for page in "$stage"/man/*.[15]; do
    section="${page##*.}"
    gzip -9n <"$page" >"$root/usr/share/man/man$section/$(basename "$page").gz"
done
"$root/usr/bin/switchyard" completions bash >"$root/usr/share/bash-completion/completions/switchyard"
"$root/usr/bin/switchyard" completions zsh >"$root/usr/share/zsh/vendor-completions/_switchyard"
"$root/usr/bin/switchyard" completions fish >"$root/usr/share/fish/vendor_completions.d/switchyard.fish"

doc="$root/usr/share/doc/switchyard"
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9n <"$repo/CHANGELOG.md" >"$doc/changelog.gz"
for f in README.md SECURITY.md docs/config.md docs/upgrading.md; do
    install -m 0644 "$repo/$f" "$doc/$(basename "$f")"
done

depends="libc6 (>= 2.34)"
if command -v dpkg-shlibdeps >/dev/null; then
    # dpkg-shlibdeps wants a debian/control beside it; give it a minimal one.
    mkdir -p "$stage/debian"
    printf 'Source: switchyard\n\nPackage: switchyard\nArchitecture: any\n' >"$stage/debian/control"
    if found="$(cd "$stage" && dpkg-shlibdeps -O "$root/usr/bin/switchyard" 2>/dev/null)"; then
        depends="${found#shlibs:Depends=}"
    fi
fi

printf '/etc/switchyard/router.toml\n/etc/default/switchyard\n' >"$root/DEBIAN/conffiles"
installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<CONTROL
Package: switchyard
Version: $version
Architecture: $arch
Maintainer: switchyard maintainers <maintainers@switchyard-router.invalid>
Installed-Size: $installed_kb
Depends: $depends
Section: net
Priority: optional
Homepage: https://github.com/switchyard-router/switchyard
Description: WebAssembly-pluggable event router for face recognition and access systems
 Ingests events from FindFace, 3DiVi OMNI, SenseNebula Pass terminals, NoahFace and
 Preservica (and any JSON sender), normalizes them with sandboxed WebAssembly plugins
 (built in, or your own), answers door remote-authentication requests, and delivers
 the events to webhooks, files or NATS durably, with retries and dead letters.
 The config is hot-reloaded; the service runs under a dynamic user with a hardened
 systemd unit.
CONTROL
install -m 0755 "$here/postinst" "$root/DEBIAN/postinst"
install -m 0755 "$here/prerm" "$root/DEBIAN/prerm"
install -m 0755 "$here/postrm" "$root/DEBIAN/postrm"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)

if [ "$fast" = 1 ]; then
    compress=(-Zgzip -z1)
else
    compress=(-Zxz -z6)
fi
deb="$out/switchyard_${version}_${arch}.deb"
dpkg-deb --root-owner-group "${compress[@]}" --build "$root" "$deb" >/dev/null
echo "$deb"
