//! The pipeline: an immutable snapshot of everything a request needs — sources with their
//! plugin chains, sinks, routes — built from a [`RouterSpec`] in one go (`build` does the I/O:
//! loading plugins, reading secrets, opening sinks and the durable queue), then shared
//! read-only by all requests.
//!
//! - `snapshot`: the [`Pipeline`]; `build`: building one; `queue`: the durable queue it commits
//!   to; `run`: one request through its source's chain; `decide`: door decisions; `route`:
//!   matching routes; `validate`: what a plugin's output may be; `payloads`: the events' JSON,
//!   made once per request for the outbox and every sink.

mod build;
mod decide;
mod payloads;
mod queue;
mod route;
mod run;
mod snapshot;
mod validate;

pub use build::{Auth, Source, build, build_with};
pub(crate) use build::{cannot_answer, load_plugins, plugin_secrets};
pub use decide::Decided;
pub use queue::dead_letters;
pub use route::matches;
pub use run::{Front, ProcessError, Processed, Timing, stamp};
pub use snapshot::Pipeline;
