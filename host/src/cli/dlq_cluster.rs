//! `switchyard dlq` in cluster mode: the dead letters live in the cluster's dead-letter
//! stream, shared by every router, so the command works from any machine that reaches NATS.

use super::Progress;
use super::dlq::DlqReplaySummary;
use crate::config::RouterSpec;
use std::collections::HashSet;
use std::time::Duration;

/// Puts matching dead letters back in the outbox stream; with `wait`, follows them until the
/// routers delivered them (or gave up again) for up to that long.
pub(super) async fn replay(
    spec: &RouterSpec,
    sink: Option<&str>,
    since: Option<i64>,
    wait: Option<Duration>,
    progress: &Progress,
) -> anyhow::Result<DlqReplaySummary> {
    let dead = crate::cluster::dead_letters(spec).await?;
    let started = crate::clock::now_ms();
    let letters = dead.list(sink, since).await?;
    progress.set_len(letters.len() as u64);
    let mut summary = DlqReplaySummary {
        matched: letters.len(),
        ..Default::default()
    };
    for letter in &letters {
        dead.replay(letter).await?;
        summary.requeued += 1;
        progress.advance(1);
    }
    progress.line(&format!(
        "requeued {} of {} dead letter(s)",
        summary.requeued,
        letters.len()
    ));
    let Some(wait) = wait else {
        progress.finish();
        return Ok(summary);
    };
    let ids: HashSet<&str> = letters.iter().map(|d| d.webhook_id.as_str()).collect();
    let mut sinks: Vec<String> = letters.iter().map(|d| d.sink.clone()).collect();
    sinks.sort_unstable();
    sinks.dedup();
    progress.set_len(summary.requeued as u64);
    progress.set_position(0);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Waiting counts every event of those sinks, not only the replayed ones: the stream
        // cannot be searched by webhook-id. Zero means all of them were settled.
        let waiting = dead.waiting(&sinks).await? as usize;
        let failed = dead
            .list(None, Some(started))
            .await?
            .iter()
            .filter(|d| ids.contains(d.webhook_id.as_str()))
            .count();
        summary.waiting = waiting.min(summary.requeued.saturating_sub(failed));
        summary.failed_again = failed;
        summary.delivered = summary.requeued.saturating_sub(summary.waiting + failed);
        progress.set_position((summary.delivered + failed) as u64);
        if summary.waiting == 0 || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    progress.finish();
    if summary.waiting > 0 {
        progress.line(&format!(
            "{} event(s) still waiting after {}; are the routers running?",
            summary.waiting,
            humantime::format_duration(wait)
        ));
    }
    Ok(summary)
}

/// Deletes the dead letters of `sink` (all when `None`) that failed before `before_ms`.
pub(super) async fn purge(spec: &RouterSpec, sink: Option<&str>, before_ms: i64) -> anyhow::Result<usize> {
    let dead = crate::cluster::dead_letters(spec).await?;
    let mut purged = 0;
    for letter in dead.list(sink, None).await? {
        if letter.failed_ms < before_ms {
            dead.delete(letter.id).await?;
            purged += 1;
        }
    }
    Ok(purged)
}
