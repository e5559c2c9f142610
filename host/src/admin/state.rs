//! What the console remembers that the rest of the router does not need: the event tail, the
//! flow's counters, logins, jobs, each plugin's last errors and rollbacks, the reload history
//! with its diffs, and the recent door decisions. All of it is bounded and in memory; a
//! restart starts it afresh (the durable record is in the sinks, the quarantine, the outbox
//! and the decision audit log).

use super::flow::Flow;
use super::jobs::Jobs;
use super::live::Tail;
use crate::router::Outcome;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// Errors remembered per plugin.
const PLUGIN_ERRORS_KEPT: usize = 20;
/// Reloads remembered.
const RELOADS_KEPT: usize = 50;
/// Door decisions remembered.
const DECISIONS_KEPT: usize = 500;

/// One plugin failure.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PluginFailure {
    pub(crate) at: String,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

/// One reload in the history.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Reload {
    #[serde(flatten)]
    pub(crate) outcome: Outcome,
    /// The config line the reason points at (`--> router.toml:N`).
    pub(crate) line: Option<u32>,
    /// The tried config against the one running before it (`unified` lines).
    pub(crate) diff: Vec<String>,
}

/// The newest `cap` of something, in memory.
struct Recent<T> {
    cap: usize,
    items: Mutex<VecDeque<T>>,
}

impl<T> Default for Recent<T> {
    fn default() -> Recent<T> {
        Recent {
            cap: 100,
            items: Mutex::default(),
        }
    }
}

impl<T: Clone> Recent<T> {
    fn new(cap: usize) -> Recent<T> {
        Recent {
            cap,
            items: Mutex::new(VecDeque::with_capacity(cap)),
        }
    }

    /// Keeps `item`, forgetting the oldest when full.
    fn push(&self, item: T) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        if items.len() >= self.cap {
            items.pop_front();
        }
        items.push_back(item);
    }

    fn newest_first(&self) -> Vec<T> {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .rev()
            .cloned()
            .collect()
    }
}

/// The console's state (see the module docs).
#[derive(Default)]
pub struct Console {
    pub(crate) tail: Tail,
    pub(crate) flow: Flow,
    pub(crate) sessions: super::access::Sessions,
    pub(crate) jobs: Jobs,
    plugin_failures: Mutex<HashMap<String, VecDeque<PluginFailure>>>,
    rollbacks: Mutex<HashMap<String, u64>>,
    reloads: Recent<Reload>,
    /// The text of the config running now (what the next reload is compared with).
    active_config: Mutex<String>,
    decisions: Recent<crate::decision::Record>,
    /// Where the console listens, once bound.
    pub(crate) address: OnceLock<std::net::SocketAddr>,
    /// The console listener's connections, once it serves.
    pub(crate) connections: OnceLock<Arc<crate::ingest::Connections>>,
}

impl Console {
    /// A console for a router running `config_text`.
    pub fn new(config_text: String) -> Console {
        Console {
            active_config: Mutex::new(config_text),
            reloads: Recent::new(RELOADS_KEPT),
            decisions: Recent::new(DECISIONS_KEPT),
            ..Console::default()
        }
    }

    /// Remembers a plugin's failure.
    pub(crate) fn plugin_failed(&self, plugin: &str, kind: &'static str, message: String) {
        let mut all = self.plugin_failures.lock().unwrap_or_else(|p| p.into_inner());
        let list = all.entry(plugin.to_string()).or_default();
        if list.len() == PLUGIN_ERRORS_KEPT {
            list.pop_front();
        }
        list.push_back(PluginFailure {
            at: crate::clock::now_rfc3339(),
            kind,
            message,
        });
    }

    /// A plugin's last failures, newest first.
    pub(crate) fn plugin_failures(&self, plugin: &str) -> Vec<PluginFailure> {
        let all = self.plugin_failures.lock().unwrap_or_else(|p| p.into_inner());
        all.get(plugin)
            .map(|l| l.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// Counts a rollback of a plugin.
    pub(crate) fn rolled_back(&self, plugin: &str) {
        *self
            .rollbacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(plugin.to_string())
            .or_default() += 1;
    }

    /// Rollbacks of a plugin in this run.
    pub(crate) fn rollbacks(&self, plugin: &str) -> u64 {
        self.rollbacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(plugin)
            .copied()
            .unwrap_or(0)
    }

    /// Records a reload; `tried` is the config text it read (if it could).
    pub(crate) fn reloaded(&self, outcome: &Outcome, tried: Option<String>) {
        let mut active = self.active_config.lock().unwrap_or_else(|p| p.into_inner());
        let diff = tried
            .as_deref()
            .map(|t| super::diff::unified(&active, t))
            .unwrap_or_default();
        if outcome.outcome == "applied"
            && let Some(t) = tried
        {
            *active = t;
        }
        let line = outcome.reason.as_deref().and_then(config_line);
        self.reloads.push(Reload {
            outcome: outcome.clone(),
            line,
            diff,
        });
    }

    /// The reload history, newest first.
    pub(crate) fn reloads(&self) -> Vec<Reload> {
        self.reloads.newest_first()
    }

    /// The config text running now.
    pub(crate) fn active_config(&self) -> String {
        self.active_config.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Remembers a door decision.
    pub(crate) fn decided(&self, record: &crate::decision::Record) {
        self.decisions.push(record.clone());
    }

    /// The recent door decisions, newest first.
    pub(crate) fn decisions(&self) -> Vec<crate::decision::Record> {
        self.decisions.newest_first()
    }
}

/// The console learns what happens in the router through this (see `router::Observer`).
impl crate::router::Observer for Console {
    fn processed(
        &self,
        pipeline: &crate::pipeline::Pipeline,
        request: &crate::plugin::Request,
        processed: &crate::pipeline::Processed,
    ) {
        let flow = &self.flow.counters;
        for (route, hits) in pipeline.routes().iter().zip(&processed.route_hits) {
            if *hits > 0 {
                flow.add(&format!("route:{}", route.name), u64::from(*hits), 0);
            }
        }
        for (sink, n) in &processed.sink_events {
            flow.add(&format!("sink:{sink}"), u64::from(*n), 0);
        }
        self.tail.publish(
            &request.source_id,
            request,
            &processed.events,
            processed.timings.clone(),
        );
    }

    fn answered(&self, source: &str, status: u16) {
        if source != "-" {
            let failed = status >= 400;
            self.flow
                .counters
                .add(&format!("source:{source}"), u64::from(!failed), u64::from(failed));
        }
    }

    fn sink_failed(&self, sink: &str) {
        self.flow.counters.add(&format!("sink:{sink}"), 0, 1);
    }

    fn plugin_failed(&self, plugin: &str, kind: &'static str, message: String) {
        Console::plugin_failed(self, plugin, kind, message);
    }

    fn decided(&self, record: &crate::decision::Record) {
        Console::decided(self, record);
    }

    fn reloaded(&self, outcome: &Outcome, tried: Option<String>) {
        Console::reloaded(self, outcome, tried);
    }

    fn rolled_back(&self, plugin: &str) {
        Console::rolled_back(self, plugin);
    }
}

/// The line of router.toml an error names: `--> path/router.toml:12` or `router.toml:12:5`.
fn config_line(reason: &str) -> Option<u32> {
    let at = reason.find(".toml:")? + ".toml:".len();
    let digits: String = reason[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::config_line;

    #[test]
    fn finds_the_config_line_in_a_reason() {
        assert_eq!(
            config_line("error: unknown field `lisen`\n --> /etc/router.toml:12:3"),
            Some(12)
        );
        assert_eq!(
            config_line("plugin `x` has invalid settings --> router.toml:40 (the `settings`)"),
            Some(40)
        );
        assert_eq!(config_line("cannot read router.toml"), None);
    }
}
