//! The threads plugins run on.
//!
//! Guest code is CPU-bound: a 100-event FindFace batch holds a thread for milliseconds
//! between yields. On the router's own runtime that starved everything else sharing the
//! worker — every step of a webhook delivery (write, read, settle, launch the next) waited
//! behind several guests' slices, so under sustained ingest only ~5 % of the acknowledged
//! events were delivered. Plugin calls therefore run on this separate runtime, whose threads
//! the kernel schedules against the router's I/O threads: a delivery or an accept that wakes
//! up preempts a guest instead of queueing behind it. One pool per process, one worker per
//! core available to it.

use super::error::Error;
use std::future::Future;
use std::sync::OnceLock;

static POOL: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();

fn pool() -> Option<&'static tokio::runtime::Runtime> {
    POOL.get_or_init(|| {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("switchyard-plugin")
            .enable_time()
            .build()
        {
            Ok(runtime) => Some(runtime),
            Err(e) => {
                tracing::error!(error = %e, "Could not start the plugin threads; plugins run on the I/O threads.");
                None
            }
        }
    })
    .as_ref()
}

/// Where a stage of plugin work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On the plugin threads (the default: guests do not hold up I/O).
    Pool,
    /// On the caller's thread: for a terminal waiting on a door decision, whose few
    /// tens of microseconds of guest work must not queue behind other requests' plugin work
    /// (the guest still yields to tokio at every epoch tick).
    Caller,
}

/// Inputs up to this size run their plugin stages on the thread that read the request.
///
/// A hop to the plugin threads and back costs two context switches and two wake-ups, which
/// for a one-event request (tens of microseconds of guest work) is most of its cost: the
/// kernel's task switching was the largest item of the batch-1 profile. A guest slice this
/// small (~0.3 ms for 16 KiB of FindFace, fresh instance included) holds the I/O thread
/// briefly, so deliveries and accepts still get their turns between requests; large batches,
/// whose slices last milliseconds, keep going to the plugin threads (see the module note).
pub(crate) const INLINE_INPUT_BYTES: usize = 16 << 10;

impl Place {
    /// Where the plugin stages of a request whose input is `input_bytes` long run.
    pub fn for_input(input_bytes: usize) -> Place {
        if input_bytes <= INLINE_INPUT_BYTES {
            Place::Caller
        } else {
            Place::Pool
        }
    }
}

/// Runs one stage of plugin work at `place` and waits for it.
pub(crate) async fn run_at<T, F>(place: Place, plugin: &str, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    match place {
        Place::Pool => run(plugin, work).await,
        Place::Caller => work.await,
    }
}

/// Runs one stage of plugin work (a session and its calls) on the plugin threads and waits
/// for it. `plugin` names the plugin in the error if the work panicked.
pub(crate) async fn run<T, F>(plugin: &str, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let Some(pool) = pool() else {
        return work.await;
    };
    match pool.spawn(work).await {
        Ok(result) => result,
        Err(e) => Err(Error::Trapped {
            plugin: plugin.to_string(),
            call: "host",
            message: format!("the host panicked while running it: {e}"),
        }),
    }
}
