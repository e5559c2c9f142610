//! `switchyard dlq list` and `switchyard dlq replay`: the dead letters in the outbox — events a
//! sink refused for good or that outlived their attempts — shown, and put back for delivery
//! (after the receiver is fixed). Both work next to a running router: the outbox is SQLite in
//! WAL mode, and the router picks requeued events up within a second. In cluster mode they
//! act on the cluster's dead-letter stream instead (`dlq_cluster`).

use super::Progress;
use crate::config;
use crate::outbox::{DeadLetter, sql as store};
use anyhow::Context;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Dead letters requeued per transaction (the router's writes interleave between them).
const BATCH: usize = 200;

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

fn outbox_of(config_path: &Path) -> anyhow::Result<(config::RouterSpec, PathBuf)> {
    let spec = config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = store::path_in(&spec.server.data_dir);
    Ok((spec, path))
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
    let (spec, path) = outbox_of(config_path)?;
    if spec.cluster.is_some() {
        let since = since_ms(filter.since.as_deref())?;
        let dead = crate::cluster::dead_letters(&spec).await?;
        return dead.list(filter.sink.as_deref(), since).await;
    }
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = store::connect(&path)?;
    store::dead_letters(&conn, filter.sink.as_deref(), since_ms(filter.since.as_deref())?)
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
    let (spec, path) = outbox_of(config_path)?;
    let before = since_ms(Some(before))?.unwrap_or(i64::MIN);
    if spec.cluster.is_some() {
        return super::dlq_cluster::purge(&spec, sink, before).await;
    }
    if !path.exists() {
        return Ok(0);
    }
    store::purge(&store::connect(&path)?, sink, before)
}

/// What `dlq replay` did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DlqReplaySummary {
    /// Dead letters that matched.
    pub matched: usize,
    /// Moved back into the outbox.
    pub requeued: usize,
    /// With `--wait`: delivered since.
    pub delivered: usize,
    /// With `--wait`: dead-lettered again.
    pub failed_again: usize,
    /// With `--wait`: still waiting when the wait ended.
    pub waiting: usize,
}

/// Moves matching dead letters back into the outbox; with `wait`, follows their delivery by the
/// running router for up to that long.
pub async fn dlq_replay(
    config_path: &Path,
    filter: &DlqFilter,
    wait: Option<Duration>,
    progress: &Progress,
) -> anyhow::Result<DlqReplaySummary> {
    let (spec, path) = outbox_of(config_path)?;
    let since = since_ms(filter.since.as_deref())?;
    if spec.cluster.is_some() {
        return super::dlq_cluster::replay(&spec, filter.sink.as_deref(), since, wait, progress).await;
    }
    let started = crate::clock::now_ms();
    let sink = filter.sink.clone();
    let listed = path.clone();
    let letters = tokio::task::spawn_blocking(move || {
        let conn = store::connect(&listed)?;
        store::dead_letters(&conn, sink.as_deref(), since)
    })
    .await
    .context("dlq replay panicked")??;
    progress.set_len(letters.len() as u64);
    let mut requeued = 0;
    for chunk in letters.chunks(BATCH) {
        let ids: Vec<i64> = chunk.iter().map(|d| d.id).collect();
        let path = path.clone();
        requeued += tokio::task::spawn_blocking(move || store::requeue(&mut store::connect(&path)?, &ids))
            .await
            .context("dlq replay panicked")??;
        progress.advance(chunk.len() as u64);
    }
    let mut summary = DlqReplaySummary {
        matched: letters.len(),
        requeued,
        ..Default::default()
    };
    let configured: HashSet<&str> = spec.sinks.iter().map(|s| s.id.as_str()).collect();
    let mut sinks: Vec<&str> = letters.iter().map(|d| d.sink.as_str()).collect();
    sinks.sort_unstable();
    sinks.dedup();
    for sink in &sinks {
        if !configured.contains(sink) {
            progress.line(&format!(
                "sink `{sink}` is not in {}; its events wait in the outbox until it is configured again",
                config_path.display()
            ));
        }
    }
    progress.line(&format!("requeued {requeued} of {} dead letter(s)", letters.len()));
    let Some(wait) = wait else {
        progress.finish();
        return Ok(summary);
    };
    // Follow the requeued events by webhook-id: gone from the outbox and not dead again means
    // delivered.
    progress.set_len(requeued as u64);
    progress.set_position(0);
    let ids: HashSet<String> = letters.iter().map(|d| d.webhook_id.clone()).collect();
    let sinks: Vec<String> = sinks.iter().map(|s| s.to_string()).collect();
    let deadline = tokio::time::Instant::now() + wait;
    // One connection for the whole wait, handed to each blocking poll and back.
    let mut conn = None;
    loop {
        let (ids2, sinks2, path2) = (ids.clone(), sinks.clone(), path.clone());
        let held = conn.take();
        let (held, waiting, failed) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<(rusqlite::Connection, usize, usize)> {
                let c = match held {
                    Some(c) => c,
                    None => store::connect(&path2)?,
                };
                let (mut waiting, mut failed) = (0, 0);
                for sink in &sinks2 {
                    let (queued, dead) = store::webhook_ids(&c, sink, started)?;
                    waiting += queued.iter().filter(|id| ids2.contains(*id)).count();
                    failed += dead.iter().filter(|id| ids2.contains(*id)).count();
                }
                Ok((c, waiting, failed))
            })
            .await
            .context("dlq replay panicked")??;
        conn = Some(held);
        summary.waiting = waiting;
        summary.failed_again = failed;
        summary.delivered = requeued.saturating_sub(waiting + failed);
        progress.set_position((summary.delivered + failed) as u64);
        if waiting == 0 || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    progress.finish();
    if summary.waiting > 0 {
        progress.line(&format!(
            "{} event(s) still waiting after {}; is the router running? (`switchyard run`)",
            summary.waiting,
            humantime::format_duration(wait)
        ));
    }
    Ok(summary)
}
