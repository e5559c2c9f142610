#!/usr/bin/env bash
# Installs Debian's `nats-server` when missing (the cluster tests and benchmarks start their
# own on loopback) and prints its path.
exec bash "$(dirname "$0")/debian-package.sh" nats-server
