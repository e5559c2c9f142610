#!/usr/bin/env bash
# Installs Debian's `docker-registry` (the CNCF distribution registry) when missing — the OCI
# tests start their own on loopback; the package's own service is not used — and prints its path.
exec bash "$(dirname "$0")/debian-package.sh" docker-registry
