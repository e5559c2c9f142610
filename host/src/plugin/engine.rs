//! The wasmtime `Engine` shared by all plugins, the epoch ticker that enforces CPU deadlines,
//! and the compile cache that makes reloading an unchanged plugin free.

use super::bindings::HostBindings;
use super::error::Error;
use super::instance::Plugin;
use super::state::{PluginState, Provisions};
use super::types::{PluginKind, PluginLimits};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances. Deadlines are counted in ticks, so this is their precision:
/// 5 ms keeps a 100 ms budget within ~5 % while costing one wake-up per tick.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Pool sizes. Instances are short-lived (one per plugin per request), so these bound the
/// number of requests in flight, not the number of plugins.
const POOL_COMPONENT_INSTANCES: u32 = 1000;
const POOL_CORE_INSTANCES: u32 = 4000;
const POOL_MEMORIES: u32 = 1000;
const POOL_TABLES: u32 = 2000;
/// Ceiling for any one plugin's linear memory; `max_memory_bytes` in router.toml is checked
/// against it, and the per-store limiter enforces the plugin's own, smaller cap.
pub const MAX_PLUGIN_MEMORY_BYTES: u64 = 1 << 30;

/// One file content's compile: filled once, by the first load; later loads wait for it.
type CacheSlot = Arc<OnceLock<Result<Component, String>>>;

/// The plugin runtime: one per router process, cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<PluginState>,
    /// Compiled components by sha256 of their bytes: reloads recompile only changed files.
    /// Each slot is filled once: loads of the same content (one .wasm behind several plugin
    /// ids, loaded in parallel) wait for the one compile instead of each compiling it.
    cache: Mutex<HashMap<[u8; 32], CacheSlot>>,
    /// Components compiled (or read from the disk cache) so far.
    compiles: AtomicU64,
    /// Where compiled code is kept across restarts (`<data_dir>/cache`, reading the user's
    /// cache too). Python and JS components take seconds to compile and milliseconds to load.
    disk_cache: Option<super::disk_cache::DiskCache>,
    /// Compiled functions (`<cache>/functions`), beside `disk_cache`.
    functions: Option<Arc<super::function_cache::FunctionCache>>,
    /// Call statistics by plugin id, kept across reloads.
    stats: super::stats::Registry,
    /// Hex digest of the engine's compatibility hash: compiled code is only valid for the
    /// same wasmtime version and engine settings, so it is part of every cache file name.
    engine_tag: String,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Builds the engine (pooling allocator, falling back to on-demand allocation where the
    /// address space cannot be reserved) and links the host interfaces and deny-all WASI.
    pub fn new() -> anyhow::Result<Runtime> {
        Runtime::with_disk_cache(None)
    }

    /// Like [`Runtime::new`], keeping compiled code in `dir` (created on demand) so restarts
    /// do not recompile unchanged plugins.
    pub fn with_disk_cache(dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
        let functions = dir
            .as_ref()
            .map(|d| Arc::new(super::function_cache::FunctionCache::new(d.join("functions"))));
        let configured = |pooling| {
            let mut config = config(pooling);
            if let Some(functions) = &functions {
                config
                    .enable_incremental_compilation(functions.clone())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            anyhow::Ok(config)
        };
        let engine = match Engine::new(&configured(true)?) {
            Ok(engine) => engine,
            Err(e) => {
                tracing::warn!(error = %e, "Pooling allocator unavailable; using on-demand allocation.");
                Engine::new(&configured(false)?).map_err(|e| anyhow::anyhow!("creating the wasm engine: {e}"))?
            }
        };
        let mut linker = Linker::new(&engine);
        HostBindings::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| anyhow::anyhow!("linking host interfaces: {e}"))?;
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow::anyhow!("linking WASI: {e}"))?;
        let engine_tag = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            format!("{:016x}", hasher.finish())
        };
        let ticker = EpochTicker::start(engine.clone());
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache: Mutex::new(HashMap::new()),
                compiles: AtomicU64::new(0),
                disk_cache: dir.map(super::disk_cache::DiskCache::new),
                functions,
                stats: super::stats::Registry::default(),
                engine_tag,
                _ticker: ticker,
            }),
        })
    }

    /// Reads, compiles (or fetches from the cache) and links one plugin. Blocking: compiling a
    /// large component takes seconds, so async callers run this on a blocking thread.
    pub fn load(
        &self,
        id: &str,
        path: &Path,
        kind: PluginKind,
        limits: PluginLimits,
        settings: &serde_json::Value,
    ) -> Result<Plugin, Error> {
        self.load_with(id, path, kind, limits, settings, Provisions::default())
    }

    /// Like [`Runtime::load`], giving the plugin named secrets for `host.hmac-sha256` and a
    /// roster for `site.roster-lookup`.
    pub fn load_with(
        &self,
        id: &str,
        path: &Path,
        kind: PluginKind,
        limits: PluginLimits,
        settings: &serde_json::Value,
        provisions: Provisions,
    ) -> Result<Plugin, Error> {
        let load_err = |reason: String| Error::Load {
            plugin: id.to_string(),
            path: path.display().to_string(),
            reason,
        };
        let bytes = super::builtin::read(path).map_err(|e| load_err(format!("{e}")))?;
        // Before anything else reads the bytes: a file that fails its signature rule is never
        // compiled. Built-in plugins are part of this binary and carry no signature.
        let signer = if super::builtin::name_of(path).is_some() {
            None
        } else {
            provisions
                .signature
                .check(&bytes, jiff::Timestamp::now())
                .map_err(|reason| load_err(format!("signature refused — {reason}")))?
        };
        // The schema the component carries is checked before anything runs, so a wrong type
        // fails `check` the same way in every language; the plugin gets its defaults filled in.
        let settings = match router_plugin_kit::schema::read(&bytes).map_err(|e| load_err(format!("{e:#}")))? {
            None => std::borrow::Cow::Borrowed(settings),
            Some(schema) => {
                std::borrow::Cow::Owned(schema.apply(settings).map_err(|problems| Error::SettingsSchema {
                    plugin: id.to_string(),
                    problems,
                })?)
            }
        };
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        let component = self.compile(&bytes, digest).map_err(load_err)?;
        // A guest built for a `router:plugin` version this host does not bind fails below
        // with a missing import or export; say which versions would work instead.
        let versions = super::abi_versions(&component, &self.inner.engine);
        let foreign: Vec<&str> = versions
            .iter()
            .map(String::as_str)
            .filter(|v| !router_plugin_kit::wit::is_supported(v))
            .collect();
        if !foreign.is_empty() {
            return Err(load_err(format!(
                "it was built against router:plugin@{}, which this router does not support (it supports {}); \
                 rebuild it against this router's wit/",
                foreign.join(", @"),
                super::SUPPORTED_ABI
            )));
        }
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| load_err(format!("{e:#}")))?;
        Plugin::new(
            id,
            path,
            kind,
            limits,
            &settings,
            provisions,
            crate::digest::hex(&digest),
            pre,
            self.inner.engine.clone(),
            self.inner.stats.of(id),
        )
        .map(|mut plugin| {
            plugin.signer = signer;
            plugin
        })
    }

    fn compile(&self, bytes: &[u8], digest: [u8; 32]) -> Result<Component, String> {
        let slot = self.cache().entry(digest).or_default().clone();
        let compiled = slot.get_or_init(|| {
            if router_plugin_kit::componentize::is_core_module(bytes) {
                return Err(
                    "this is a core wasm module, not a component; build it with `cargo xtask plugins` \
                            (or `wasm-tools component new`) to make a component"
                        .to_string(),
                );
            }
            self.inner.compiles.fetch_add(1, Ordering::Relaxed);
            match &self.inner.disk_cache {
                Some(cache) => self.compile_cached(cache, bytes, &digest),
                None => Component::new(&self.inner.engine, bytes).map_err(|e| format!("{e:#}")),
            }
        });
        if compiled.is_err() {
            // A failure is not cached: the next load (after a fix elsewhere, e.g. disk space
            // for the cache) tries again.
            self.cache().remove(&digest);
        }
        compiled.clone()
    }

    /// Components compiled (or read from the disk cache) by this runtime: once per file
    /// content, however many plugin ids use it.
    pub fn compiles(&self) -> u64 {
        self.inner.compiles.load(Ordering::Relaxed)
    }

    /// The file name of a component's compiled code in a disk cache.
    pub fn cache_name(&self, digest: &[u8; 32]) -> String {
        format!("{}-{}.cwasm", crate::digest::hex(digest), self.inner.engine_tag)
    }

    fn compile_cached(
        &self,
        cache: &super::disk_cache::DiskCache,
        bytes: &[u8],
        digest: &[u8; 32],
    ) -> Result<Component, String> {
        let name = self.cache_name(digest);
        if let Some(path) = cache.get(&name) {
            // SAFETY: the file was written by `Component::serialize` of an engine with the same
            // compatibility hash (it is in the name), into the router's data directory or the
            // user's own cache (checked to be writable by this user alone); wasmtime also checks
            // the header's version and settings and errors on a mismatch.
            match unsafe { Component::deserialize_file(&self.inner.engine, &path) } {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "Cached compiled plugin unusable; recompiling.")
                }
            }
        }
        let component = Component::new(&self.inner.engine, bytes).map_err(|e| format!("{e:#}"))?;
        // The cache only saves time: failing to write it is logged, never fatal.
        let written = component
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|code| cache.put(&name, &code).map_err(|e| e.to_string()));
        if let Err(e) = written {
            tracing::warn!(dir = %cache.dir().display(), error = %e, "Could not write the compiled-plugin cache.");
        }
        if let Some(functions) = &self.inner.functions {
            functions.prune(super::function_cache::MAX_BYTES);
        }
        Ok(component)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], CacheSlot>> {
        // A panic while holding this lock cannot leave the map inconsistent (inserts are atomic).
        self.inner.cache.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

fn config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // `scripts/profile.sh` sets this so that perf names the guest's functions (from
    // /tmp/perf-<pid>.map) instead of one anonymous "[JIT]" blob; costs nothing when unset.
    if std::env::var_os("SWITCHYARD_PERFMAP").is_some_and(|v| !v.is_empty() && v != "0") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_COMPONENT_INSTANCES)
            .total_core_instances(POOL_CORE_INSTANCES)
            .total_memories(POOL_MEMORIES)
            .total_tables(POOL_TABLES)
            .total_stacks(POOL_COMPONENT_INSTANCES)
            // Slots are reset by madvise, not memset (`linear_memory_keep_resident` stays 0):
            // keeping 16 MiB resident was measured (BENCHMARKS.md, issue 11) to make a small
            // filter's fresh instance 70 % dearer — every drop memsets all the memory the
            // guest ever touched — and bought nothing measurable for 100-event FindFace
            // batches, whose page faults it was meant to save.
            .max_memory_size(MAX_PLUGIN_MEMORY_BYTES as usize);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a dedicated thread; stops and joins
/// when dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    #[expect(clippy::disallowed_methods, reason = "dedicated epoch thread, not async code")]
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        if thread.is_none() {
            tracing::error!("Could not start the epoch thread; plugin CPU deadlines will not be enforced.");
        }
        EpochTicker { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
