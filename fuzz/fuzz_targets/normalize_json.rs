#![no_main]
//! See `router_tests::fuzz` for what this target checks.

libfuzzer_sys::fuzz_target!(
    init: router_tests::fuzz::init("normalize_json"),
    |data: &[u8]| router_tests::fuzz::run("normalize_json", data)
);
