//! One delivery task per configured webhook sink, following config reloads: a changed sink's
//! task keeps running and sees the new settings through its `ArcSwap` on its next attempt; a
//! removed sink's task stops (its events wait where they are stored until it comes back).
//! The embedded outbox's dispatchers and the cluster's workers both live in one of these.

use super::WebhookSink;
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Running {
    target: Arc<ArcSwap<WebhookSink>>,
    stop: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

/// What a new sink's task is given: its id, its live settings and its stop signal.
pub struct TaskStart {
    /// The sink id.
    pub sink: String,
    /// The sink as currently configured.
    pub target: Arc<ArcSwap<WebhookSink>>,
    /// Triggered when the sink is removed or delivery stops.
    pub stop: Shutdown,
}

/// The running tasks, by sink id.
#[derive(Default)]
pub struct SinkTasks {
    running: Mutex<HashMap<String, Running>>,
}

impl SinkTasks {
    /// Starts, updates or stops tasks to match `wanted`, the webhook sinks of the config now
    /// live; `spawn` starts the task of a sink that has none.
    pub fn configure(
        &self,
        wanted: HashMap<String, Arc<WebhookSink>>,
        spawn: impl Fn(TaskStart) -> tokio::task::JoinHandle<()>,
    ) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.retain(|id, r| {
            if wanted.contains_key(id) {
                return true;
            }
            tracing::info!(sink = %id, "Sink removed; its undelivered events wait until it is configured again.");
            r.stop.trigger();
            false
        });
        for (id, sink) in wanted {
            match running.get(&id) {
                Some(r) => r.target.store(sink),
                None => {
                    let target = Arc::new(ArcSwap::new(sink));
                    let stop = Shutdown::new();
                    let task = spawn(TaskStart {
                        sink: id.clone(),
                        target: target.clone(),
                        stop: stop.clone(),
                    });
                    running.insert(id, Running { target, stop, task });
                }
            }
        }
    }

    /// The sinks with a task.
    pub fn sinks(&self) -> Vec<String> {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Stops every task and waits for each to finish (they bound their own grace).
    pub async fn stop(&self) {
        let running: Vec<Running> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, r)| r)
            .collect();
        for r in &running {
            r.stop.trigger();
        }
        for r in running {
            let _ = r.task.await;
        }
    }
}
