# switchyard — the two Quick start commands are `make run` and `make test`.
#
#   make run      install what is missing (wasm guest toolchain), build host + plugins,
#                 run the router on router.toml (127.0.0.1:8080)
#   make test     build the plugins and run the whole test suite
#   make plugins  build plugins/* into target/plugins/*.wasm (components)
#   make check    validate router.toml (and load its plugins)
#   make deb      the Debian package, target/deb/switchyard_<version>_<arch>.deb (packaging/)
#   make bench    release-mode benchmarks, results written to BENCHMARKS.md
#   make screenshots  the console's views against live traffic, into docs/screenshots/
#   make ci       what CI runs: fmt --check, clippy -D warnings, make test

CARGO ?= cargo
CONFIG ?= router.toml

.PHONY: run test plugins build native check deb ci fmt clippy bench screenshots

run: plugins build
	./target/release/switchyard run --config $(CONFIG)

build:
	$(CARGO) build --release --locked -p switchyard

plugins:
	$(CARGO) xtask plugins

test: plugins
	$(CARGO) test --workspace --locked

check: plugins build
	./target/release/switchyard check --config $(CONFIG)

# The Debian package: the release binary with the plugins inside, /etc/switchyard/router.toml,
# the hardened systemd unit, man pages and completions (packaging/build-deb.sh).
deb: plugins build
	bash scripts/package-tools.sh
	bash packaging/build-deb.sh target/release/switchyard target/deb

# Release-mode measurements; rewrites the results table in BENCHMARKS.md. The external part
# runs the release binary pinned to core 0 with wrk on core 1 (scripts/bench-tools.sh installs
# wrk); `cargo bench -p router-tests --bench external -- webhook` runs one part of it. The
# `native` part compares it with the same router whose FindFace normalizer is linked natively
# (feature `native-plugins`, built here as target/release/switchyard-native). Last, the plugin
# author's edit → test loop per language (scripts/edit-loop.sh).
bench: plugins native build
	bash scripts/bench-tools.sh
	$(CARGO) bench --locked -p router-tests --bench reload --bench outbox --bench external
	bash scripts/edit-loop.sh target/release/switchyard

# The bench-only router with first-party plugin crates linked natively (never shipped).
native: plugins
	$(CARGO) build --release --locked -p switchyard --features native-plugins
	cp target/release/switchyard target/release/switchyard-native

# The browser tests of the console, saving each view (scripts/browser-tools.sh installs
# Chromium and playwright-core when missing).
screenshots: plugins
	SCREENSHOTS=1 $(CARGO) test --locked -p router-tests --test it console::browser_ -- --test-threads=1

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

ci:
	bash .ci/run
