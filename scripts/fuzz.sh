#!/usr/bin/env bash
# Coverage-guided fuzzing of switchyard's input parsers and vendor normalizers with cargo-fuzz
# (libFuzzer), on the stable toolchain: cargo-fuzz passes nightly-only flags, which
# RUSTC_BOOTSTRAP=1 allows. No sanitizer: the code under test is safe Rust and wasm, and the
# oracle is a panic (see `router_tests::fuzz`); AddressSanitizer's shadow memory also fights
# wasmtime's large virtual reservations.
#
#   scripts/fuzz.sh                      every target, 1 000 000 executions each
#   scripts/fuzz.sh normalize_findface   one target (names: scripts/fuzz.sh --list)
#   RUNS=10000 scripts/fuzz.sh           fewer executions
#   SECONDS_EACH=20 scripts/fuzz.sh      a time box per target instead (CI's smoke run)
#
# Corpora grow in target/fuzz/corpus/<target>, crashes land in target/fuzz/artifacts/<target>/
# (copy each into tests/fixtures/fuzz-regressions/<target>/ once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
# The seed writer is built with the rest of the workspace (target/debug); only the
# instrumented fuzz targets go to their own target dir.
seeds() { cargo run -q -p router-tests --bin fuzz-seeds -- "$@"; }

if [ "${1:-}" = "--list" ]; then
    seeds --list
    exit
fi
# libFuzzer itself is C++, built by libfuzzer-sys.
if ! command -v c++ >/dev/null 2>&1; then
    echo "fuzz: installing g++ (libFuzzer is C++)" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends g++ >&2
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
[ -f target/plugins/normalize-findface.wasm ] || cargo xtask plugins

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(seeds --list)
fi

limit=(-runs="${RUNS:-1000000}")
if [ -n "${SECONDS_EACH:-}" ]; then
    limit=(-max_total_time="$SECONDS_EACH")
fi

mkdir -p target/fuzz
for target in "${targets[@]}"; do
    corpus="target/fuzz/corpus/$target"
    seeds "$target" "$corpus"
    mkdir -p "target/fuzz/artifacts/$target"
    echo "== $target (${limit[*]})"
    log="target/fuzz/$target.log"
    status=0
    SWITCHYARD_FUZZ_CACHE="$PWD/target/fuzz/cache" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$PWD/target/fuzz" \
        cargo fuzz run --sanitizer none --fuzz-dir fuzz "$target" "$corpus" -- \
        "${limit[@]}" -max_len=65536 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="target/fuzz/artifacts/$target/" >"$log" 2>&1 || status=$?
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$log" >&2
        echo "fuzz: $target failed (exit $status); log: $log, inputs: target/fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
