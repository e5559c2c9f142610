//! Fuzz targets, shared by the coverage-guided fuzzer (`fuzz/`, cargo-fuzz + libFuzzer, see
//! `scripts/fuzz.sh`) and the smoke run in the test suite (`tests/it/fuzz.rs`, seeds plus
//! mutations). Each target takes arbitrary bytes and panics only on a bug:
//!
//! | target | input | must hold |
//! |---|---|---|
//! | `config` | router.toml text | compiles or reports errors, each rendering with its position |
//! | `capture` | a capture file | parses to a request or an error |
//! | `body` | 1 byte of encoding + a body | decoding never exceeds the cap; a gzip/zlib round trip is exact |
//! | `normalize_<vendor>` | a capture (envelope or raw body) | the vendor's normalizer, through the real runtime with the example config's settings, answers events or a reported error: never a trap, a blown CPU or memory budget, or an invalid result |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use switchyard::plugin::{Error, Plugin, PluginKind, PluginLimits, Runtime};

/// The vendor normalizers under fuzzing: (target suffix, example folder, sample-file prefixes).
pub const VENDORS: &[(&str, &str, &[&str])] = &[
    ("findface", "findface", &["findface-"]),
    ("omni", "omni", &["omni-"]),
    ("sensenebula", "sensenebula", &["nebulapass-"]),
    ("noahface", "noahface", &["noahface-"]),
    ("preservica", "preservica", &["preservica-"]),
    ("json", "json-to-webhook", &["findface-", "noahface-"]),
];

/// The secret the Preservica samples are signed with (so fuzzing reaches the signed paths).
const PRESERVICA_SECRET: &[u8] = b"my_shared_secret";

/// `router.toml` text.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = switchyard::config::load_str(&text, Path::new("/fuzz/router.toml")) {
        let rendered = errors.to_string();
        assert!(!rendered.is_empty(), "an error list renders");
    }
}

/// A capture file.
pub fn capture(data: &[u8]) {
    let _ = switchyard::capture::request_from(data, "fuzz");
}

/// The cap `body` decodes to.
const BODY_LIMIT: usize = 64 << 10;

/// The first byte picks a `Content-Encoding`, the rest is the body.
pub fn body(data: &[u8]) {
    use std::io::Write;
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let encoding = ["gzip", "deflate", "identity", "x-gzip", "br", " GZIP "][usize::from(selector) % 6];
    let body = bytes::Bytes::copy_from_slice(rest);
    if let Ok(decoded) = switchyard::ingest::decode(Some(encoding), body, BODY_LIMIT) {
        assert!(
            decoded.len() <= BODY_LIMIT || encoding == "identity",
            "decoded past the cap"
        );
    }
    // Whatever the bytes, compressing them and decoding gives them back.
    if rest.len() <= BODY_LIMIT {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("gzip");
        let packed = bytes::Bytes::from(gz.finish().expect("gzip"));
        let decoded = switchyard::ingest::decode(Some("gzip"), packed, BODY_LIMIT).expect("round trip");
        assert_eq!(&decoded[..], rest);
    }
}

/// The plugin runtime and a tokio runtime to drive it, shared by every normalizer target.
struct Host {
    plugins: Runtime,
    tokio: tokio::runtime::Runtime,
    loaded: std::sync::Mutex<BTreeMap<String, Arc<Plugin>>>,
}

fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| Host {
        // The fuzzer's instrumented Cranelift compiles slowly: `scripts/fuzz.sh` keeps compiled
        // plugins in a cache directory across runs. (The test suite compiles in memory.)
        plugins: Runtime::with_disk_cache(std::env::var_os("SWITCHYARD_FUZZ_CACHE").map(PathBuf::from))
            .expect("plugin runtime"),
        tokio: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio"),
        loaded: Default::default(),
    })
}

/// `vendor`'s normalizer, loaded on first use with the settings of its example config.
fn normalizer(vendor: &str) -> Arc<Plugin> {
    let host = host();
    let mut loaded = host.loaded.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(plugin) = loaded.get(vendor) {
        return plugin.clone();
    }
    let (_, example, _) = VENDORS
        .iter()
        .find(|(name, ..)| *name == vendor)
        .unwrap_or_else(|| panic!("no normalizer `{vendor}`"));
    let config = crate::workspace().join("examples").join(example).join("router.toml");
    let spec = switchyard::config::load(&config).unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    let id = &spec.sources[0].normalizer;
    let p = spec
        .plugins
        .iter()
        .find(|p| &p.id == id)
        .expect("the source's normalizer");
    assert!(
        switchyard::plugin::builtin::read(&p.path).is_ok(),
        "{} missing: run `cargo xtask plugins` first (then build again: the router embeds them)",
        p.path.display()
    );
    let secrets = [("hmac".to_string(), Ok(PRESERVICA_SECRET.to_vec()))].into();
    let plugin = host
        .plugins
        .load_with(
            vendor,
            &p.path,
            PluginKind::Normalizer,
            // A generous CPU budget: the fuzzer instruments the host side of each call (lowering,
            // lifting), which the budget counts. A guest that loops still ends as a failure.
            PluginLimits {
                timeout_ms: 2_000,
                ..PluginLimits::DEFAULT
            },
            &p.settings,
            switchyard::plugin::Provisions {
                secrets,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let plugin = Arc::new(plugin);
    loaded.insert(vendor.to_string(), plugin.clone());
    plugin
}

/// Work a target does once before fuzzing (outside libFuzzer's per-input timeout): loading
/// and compiling a normalizer.
pub fn init(target: &str) {
    if let Some(vendor) = target.strip_prefix("normalize_") {
        normalizer(vendor);
    }
}

/// A capture (envelope or raw body) through `vendor`'s normalizer.
pub fn normalize(vendor: &str, data: &[u8]) {
    let Ok(request) = switchyard::capture::request_from(data, "fuzz") else {
        return;
    };
    let plugin = normalizer(vendor);
    match host().tokio.block_on(plugin.normalize_request(&request)) {
        Ok(normalized) => {
            for event in &normalized.events {
                assert!(!event.vendor.is_empty(), "{vendor}: an event without a vendor");
            }
        }
        Err(
            e @ (Error::Trapped { .. }
            | Error::DeadlineExceeded { .. }
            | Error::ResourceLimit { .. }
            | Error::Contract { .. }
            | Error::Load { .. }),
        ) => panic!("{vendor} on {} bytes: {e}", data.len()),
        Err(_) => {}
    }
}

/// Seed inputs of a target: the samples for a normalizer (and `capture`), router.toml files for
/// `config`, encoded samples for `body`.
pub fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let samples = || -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(crate::samples_dir())
            .expect("samples")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).expect("sample");
                (p, bytes)
            })
            .collect()
    };
    match target {
        "config" => {
            let mut files = vec![crate::workspace().join("router.toml")];
            for dir in ["examples", "tests/ui"] {
                collect_toml(&crate::workspace().join(dir), &mut files);
            }
            files.sort();
            files
                .into_iter()
                .map(|p| {
                    let bytes = std::fs::read(&p).expect("config");
                    (p, bytes)
                })
                .collect()
        }
        "capture" => samples(),
        // Each sample gzip'ed (selector 0), zlib'ed (1) and as is (2).
        "body" => samples()
            .into_iter()
            .flat_map(|(p, bytes)| {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(vec![0u8], flate2::Compression::default());
                gz.write_all(&bytes).expect("gzip");
                let mut zlib = flate2::write::ZlibEncoder::new(vec![1u8], flate2::Compression::default());
                zlib.write_all(&bytes).expect("zlib");
                let plain = [&[2u8][..], &bytes].concat();
                [gz.finish().expect("gzip"), zlib.finish().expect("zlib"), plain].map(|seed| (p.clone(), seed))
            })
            .collect(),
        vendor => {
            let prefixes = VENDORS
                .iter()
                .find(|(name, ..)| format!("normalize_{name}") == vendor)
                .map(|(_, _, p)| *p)
                .unwrap_or_else(|| panic!("unknown fuzz target `{vendor}`"));
            samples()
                .into_iter()
                .filter(|(p, _)| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    prefixes.iter().any(|prefix| name.starts_with(prefix))
                })
                .collect()
        }
    }
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_toml(&path, out);
        } else if path.extension().is_some_and(|x| x == "toml") {
            out.push(path);
        }
    }
}

/// Every target name, as `fuzz/fuzz_targets/<name>.rs` and `scripts/fuzz.sh` know them.
pub fn targets() -> Vec<String> {
    let mut names: Vec<String> = ["config", "capture", "body"].map(String::from).to_vec();
    names.extend(VENDORS.iter().map(|(name, ..)| format!("normalize_{name}")));
    names
}

/// Runs `target` on one input.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "config" => config(data),
        "capture" => capture(data),
        "body" => body(data),
        other => normalize(
            other
                .strip_prefix("normalize_")
                .unwrap_or_else(|| panic!("unknown fuzz target `{other}`")),
            data,
        ),
    }
}
