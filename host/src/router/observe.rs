//! What happens in the running router, told to whoever watches it (the operator console) —
//! so the edge, the pipeline and the reload controller report facts and never call up into
//! the console. Every method defaults to doing nothing; an observer must be quick and must
//! not block (it runs on the request's task).

use super::control::Outcome;
use crate::pipeline::{Pipeline, Processed};
use crate::plugin::Request;

/// A watcher of the running router (see the module docs).
pub trait Observer: Send + Sync {
    /// A request (or feed message) went through its source's chain and was committed.
    fn processed(&self, _pipeline: &Pipeline, _request: &Request, _processed: &Processed) {}

    /// A source's request was answered with `status` (`source` is `-` when none matched).
    fn answered(&self, _source: &str, _status: u16) {}

    /// Committing to `sink` failed.
    fn sink_failed(&self, _sink: &str) {}

    /// A plugin call failed (`kind` as in `switchyard_plugin_errors_total`).
    fn plugin_failed(&self, _plugin: &str, _kind: &'static str, _message: String) {}

    /// A door decision was made.
    fn decided(&self, _record: &crate::decision::Record) {}

    /// A reload was applied or rejected; `tried` is the config text it read, if it could.
    fn reloaded(&self, _outcome: &Outcome, _tried: Option<String>) {}

    /// A plugin was taken back to its last good version.
    fn rolled_back(&self, _plugin: &str) {}
}

/// Watches nothing: a router without a console (tests, tools).
pub struct Unobserved;

impl Observer for Unobserved {}
