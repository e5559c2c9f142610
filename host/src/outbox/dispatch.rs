//! One sink's dispatcher: a task that reads the sink's waiting events from the outbox in commit
//! order (a bounded window of them in memory, the rest stay on disk), runs up to `concurrency`
//! attempts at once, and records each outcome — delivered, retry at a jittered time, or dead
//! letter. Events sharing an ordering key go one at a time: the next waits until the one before
//! it is delivered or dead-lettered.

use super::sql;
use super::store::Store;
use crate::queue::{Queued, SinkCounters};
use crate::shutdown::Shutdown;
use crate::sink::{DeliveryError, Schedule, WebhookSink};
use arc_swap::ArcSwap;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;

/// Events of one sink held in memory at most; beyond that they wait on disk.
const WINDOW: usize = 4096;
/// Events read from disk per query.
const PAGE: usize = 512;
/// How often the outbox is re-read even without a wake-up: events another process put there
/// (`switchyard dlq replay`) are found within this time.
const POLL: Duration = Duration::from_secs(1);

/// The dispatcher's view of an attempt that finished.
struct Outcome {
    id: i64,
    result: Result<(), DeliveryError>,
}

pub(super) struct Dispatcher {
    sink_id: String,
    target: Arc<ArcSwap<WebhookSink>>,
    store: Store,
    counters: Arc<SinkCounters>,
    stop: Shutdown,
    items: HashMap<i64, Queued>,
    /// Events that may be attempted, by due time (epoch ms) then id.
    ready: BTreeSet<(i64, i64)>,
    /// Per ordering key, its events in commit order; only the front one is ready or in flight.
    lanes: HashMap<String, VecDeque<i64>>,
    in_flight: usize,
    /// The highest id read from disk.
    cursor: i64,
    /// The last read found nothing more; read again on a wake-up or the poll.
    exhausted: bool,
    /// Whether the last attempt failed (to log state changes, not every failure).
    failing: bool,
    outcomes_tx: mpsc::UnboundedSender<Outcome>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
}

impl Dispatcher {
    pub(super) fn new(
        sink_id: String,
        target: Arc<ArcSwap<WebhookSink>>,
        store: Store,
        counters: Arc<SinkCounters>,
        stop: Shutdown,
    ) -> Dispatcher {
        let (outcomes_tx, outcomes) = mpsc::unbounded_channel();
        Dispatcher {
            sink_id,
            target,
            store,
            counters,
            stop,
            items: HashMap::new(),
            ready: BTreeSet::new(),
            lanes: HashMap::new(),
            in_flight: 0,
            cursor: 0,
            exhausted: false,
            failing: false,
            outcomes_tx,
            outcomes,
        }
    }

    /// Runs until stopped; then waits up to `grace` for attempts in flight, so their outcomes
    /// are recorded rather than repeated after a restart.
    pub(super) async fn run(mut self, grace: Duration) {
        let waker = self.store.waker(&self.sink_id);
        // A steady tick, not a per-iteration sleep: under a stream of outcomes the latter would
        // never fire, and events put back by another process would wait for a local commit.
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.stop.is_triggered() {
                break;
            }
            if !self.exhausted && self.items.len() < WINDOW / 2 {
                self.refill().await;
            }
            self.launch();
            let now = crate::clock::now_ms();
            let capacity = self.in_flight < self.target.load().spec().concurrency;
            let next_due = self
                .ready
                .first()
                .filter(|_| capacity)
                .map(|(due, _)| Duration::from_millis((due - now).max(0) as u64));
            tokio::select! {
                _ = self.stop.cancelled() => break,
                Some(outcome) = self.outcomes.recv() => self.settle(outcome),
                _ = waker.notified() => self.exhausted = false,
                _ = sleep_opt(next_due) => {}
                _ = poll.tick() => self.exhausted = false,
            }
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.in_flight > 0 {
            match tokio::time::timeout_at(deadline, self.outcomes.recv()).await {
                Ok(Some(outcome)) => self.settle(outcome),
                _ => break,
            }
        }
    }

    async fn refill(&mut self) {
        while self.items.len() < WINDOW {
            let (sink, after) = (self.sink_id.clone(), self.cursor);
            let page = match self.store.read(move |c| sql::load(c, &sink, after, PAGE)).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(sink = %self.sink_id, error = %e, "Reading the outbox failed; retrying on the next poll.");
                    self.exhausted = true;
                    return;
                }
            };
            let full = page.len() == PAGE;
            for item in page {
                self.cursor = self.cursor.max(item.id);
                self.admit(item);
            }
            if !full {
                self.exhausted = true;
                return;
            }
        }
    }

    fn admit(&mut self, item: Queued) {
        let (id, due) = (item.id, item.next_ms);
        match &item.ordering_key {
            Some(key) => {
                let lane = self.lanes.entry(key.clone()).or_default();
                lane.push_back(id);
                if lane.len() == 1 {
                    self.ready.insert((due, id));
                }
            }
            None => {
                self.ready.insert((due, id));
            }
        }
        self.items.insert(id, item);
    }

    /// Starts attempts for due events while there is capacity.
    fn launch(&mut self) {
        let target = self.target.load_full();
        let now = crate::clock::now_ms();
        while self.in_flight < target.spec().concurrency {
            let Some(&(due, id)) = self.ready.first() else { return };
            if due > now {
                return;
            }
            self.ready.remove(&(due, id));
            let Some(item) = self.items.get(&id).cloned() else {
                continue;
            };
            self.in_flight += 1;
            self.counters.in_flight.fetch_add(1, Ordering::Relaxed);
            let (target, tx) = (target.clone(), self.outcomes_tx.clone());
            tokio::spawn(async move {
                let result = target.send(&item.webhook_id, &item.payload).await;
                let _ = tx.send(Outcome { id: item.id, result });
            });
        }
    }

    fn settle(&mut self, outcome: Outcome) {
        self.in_flight -= 1;
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        let Some(item) = self.items.get_mut(&outcome.id) else {
            return;
        };
        let error = match outcome.result {
            Ok(()) => {
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                if std::mem::replace(&mut self.failing, false) {
                    tracing::info!(sink = %self.sink_id, "Sink accepts deliveries again.");
                }
                tracing::debug!(sink = %self.sink_id, webhook_id = %item.webhook_id, attempts = item.attempts + 1, "Delivered.");
                self.store.delivered(outcome.id);
                self.finish(outcome.id);
                return;
            }
            Err(e) => e,
        };
        item.attempts += 1;
        let delay = Schedule::of(self.target.load().spec()).after_failure(item.attempts, item.created_ms, &error);
        let now = crate::clock::now_ms();
        match delay {
            Some(delay) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(sink = %self.sink_id, error = %error, "Delivery failing; events stay in the outbox and are retried.");
                }
                self.counters.retried.fetch_add(1, Ordering::Relaxed);
                self.counters.failed(&error.to_string());
                let next = now + delay.as_millis() as i64;
                tracing::debug!(sink = %self.sink_id, webhook_id = %item.webhook_id, attempts = item.attempts, error = %error, retry_in_ms = delay.as_millis() as u64, "Delivery failed; will retry.");
                item.next_ms = next;
                item.last_error = Some(error.to_string());
                self.store.retry(outcome.id, item.attempts, next, error.to_string());
                self.ready.insert((next, outcome.id));
            }
            None => {
                self.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
                self.counters.failed(&error.to_string());
                tracing::error!(sink = %self.sink_id, webhook_id = %item.webhook_id, attempts = item.attempts, error = %error, "Delivery given up; event moved to the dead letters (`switchyard dlq list`).");
                self.store.bury(outcome.id, item.attempts, error.to_string());
                self.finish(outcome.id);
            }
        }
    }

    /// Forgets a delivered or dead-lettered event and readies the next one of its lane.
    fn finish(&mut self, id: i64) {
        let Some(item) = self.items.remove(&id) else { return };
        let Some(key) = item.ordering_key else { return };
        let Some(lane) = self.lanes.get_mut(&key) else { return };
        lane.pop_front();
        match lane.front() {
            Some(next) => {
                let due = self.items.get(next).map(|i| i.next_ms).unwrap_or(0);
                self.ready.insert((due, *next));
            }
            None => {
                self.lanes.remove(&key);
            }
        }
    }
}

async fn sleep_opt(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
