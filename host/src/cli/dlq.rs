//! `switchyard dlq list` and `switchyard dlq replay`: the dead letters in the outbox — events a
//! sink refused for good or that outlived their attempts — shown, and put back for delivery
//! (after the receiver is fixed). Both work next to a running router: the outbox is SQLite in
//! WAL mode, and the router picks requeued events up within a second. In cluster mode they
//! act on the cluster's dead-letter stream instead: both are `queue::DeadLetters`.

use super::Progress;
use crate::config;
use crate::queue::{DeadLetter, DeadLetters, ReplaySummary as DlqReplaySummary, Selection};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Which dead letters a command applies to (also the `--sink`/`--since` flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DlqFilter {
    /// Only this sink's.
    #[arg(long)]
    pub sink: Option<String>,
    /// Only those that failed at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
}

impl DlqFilter {
    fn selection(&self) -> anyhow::Result<Selection> {
        Ok(Selection {
            sink: self.sink.clone(),
            since_ms: since_ms(self.since.as_deref())?,
            ..Selection::default()
        })
    }
}

/// The config at `config_path` and the dead letters of the queue it names.
async fn dead_letters_of(config_path: &Path) -> anyhow::Result<(config::RouterSpec, Arc<dyn DeadLetters>)> {
    let spec = config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dead = crate::pipeline::dead_letters(&spec).await?;
    Ok((spec, dead))
}

fn since_ms(since: Option<&str>) -> anyhow::Result<Option<i64>> {
    since
        .map(|s| {
            humantime::parse_rfc3339_weak(s)
                .map(|t| {
                    t.duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(0)
                })
                .map_err(|_| anyhow::anyhow!("`{s}` is not an RFC 3339 time such as 2026-11-25T10:00:00Z"))
        })
        .transpose()
}

/// The dead letters matching `filter`, oldest failure first (the cluster's, in cluster mode).
pub async fn dlq_list(config_path: &Path, filter: &DlqFilter) -> anyhow::Result<Vec<DeadLetter>> {
    let (_, dead) = dead_letters_of(config_path).await?;
    dead.list(&filter.selection()?).await
}

/// A table of dead letters for people.
pub fn dlq_table(letters: &[DeadLetter]) -> String {
    let mut out = format!(
        "{:>6}  {:<16}  {:<24}  {:>8}  {:<36}  {}\n",
        "ID", "SINK", "FAILED AT", "ATTEMPTS", "WEBHOOK-ID", "LAST ERROR"
    );
    for d in letters {
        let mut error: String = d.last_error.chars().take(100).collect();
        if error.len() < d.last_error.len() {
            error.push('…');
        }
        out.push_str(&format!(
            "{:>6}  {:<16}  {:<24}  {:>8}  {:<36}  {}\n",
            d.id,
            d.sink,
            crate::clock::rfc3339_ms(d.failed_ms),
            d.attempts,
            d.webhook_id,
            error.replace('\n', " ")
        ));
    }
    out.push_str(&format!("{} dead letter(s)\n", letters.len()));
    out
}

/// Deletes dead letters that failed before `before` (RFC 3339), `sink`'s only if given; returns
/// how many. The only way anything leaves the dead letters other than a replay.
pub async fn dlq_purge(config_path: &Path, sink: Option<&str>, before: &str) -> anyhow::Result<usize> {
    let (_, dead) = dead_letters_of(config_path).await?;
    let selection = Selection {
        sink: sink.map(str::to_string),
        before_ms: Some(since_ms(Some(before))?.unwrap_or(i64::MIN)),
        ..Selection::default()
    };
    let chosen = dead.select(&selection).await?;
    crate::queue::purge(dead.as_ref(), &chosen).await
}

/// Moves matching dead letters back into the queue; with `wait`, follows their delivery by the
/// running router (in cluster mode, the routers) for up to that long.
pub async fn dlq_replay(
    config_path: &Path,
    filter: &DlqFilter,
    wait: Option<Duration>,
    progress: &Progress,
) -> anyhow::Result<DlqReplaySummary> {
    let (spec, dead) = dead_letters_of(config_path).await?;
    let started = crate::clock::now_ms();
    let chosen = dead.select(&filter.selection()?).await?;
    progress.set_len(chosen.len() as u64);
    let requeued = crate::queue::replay(dead.as_ref(), &chosen, |n| progress.advance(n)).await?;
    let mut summary = DlqReplaySummary {
        matched: chosen.len(),
        requeued,
        ..Default::default()
    };
    let configured: HashSet<&str> = spec.sinks.iter().map(|s| s.id.as_str()).collect();
    let sinks: BTreeSet<&str> = chosen.iter().map(|c| c.sink.as_str()).collect();
    for sink in sinks {
        if !configured.contains(sink) {
            progress.line(&format!(
                "sink `{sink}` is not in {}; its events wait in the queue until it is configured again",
                config_path.display()
            ));
        }
    }
    progress.line(&format!("requeued {requeued} of {} dead letter(s)", chosen.len()));
    let Some(wait) = wait else {
        progress.finish();
        return Ok(summary);
    };
    // Follow the requeued events by webhook-id: gone from the queue and not dead again means
    // delivered.
    progress.set_len(requeued as u64);
    progress.set_position(0);
    crate::queue::follow(dead.as_ref(), &chosen, started, wait, &mut summary, |s| {
        progress.set_position((s.delivered + s.failed_again) as u64)
    })
    .await?;
    progress.finish();
    if summary.waiting > 0 {
        let who = if spec.cluster.is_some() {
            "are the routers running?"
        } else {
            "is the router running? (`switchyard run`)"
        };
        progress.line(&format!(
            "{} event(s) still waiting after {}; {who}",
            summary.waiting,
            humantime::format_duration(wait)
        ));
    }
    Ok(summary)
}
