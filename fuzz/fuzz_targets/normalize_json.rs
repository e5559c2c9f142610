#![no_main]
//! See `router_tests::fuzz` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| router_tests::fuzz::run("normalize_json", data));
