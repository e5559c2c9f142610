//! Replaying dead letters, the same from the admin API and `switchyard dlq replay`: in batches
//! (the router's own commits interleave between them), then, when asked, following the
//! replayed events until they are delivered or dead again.

use super::letters::{Chosen, DeadLetters};
use std::time::Duration;

/// Dead letters replayed per call to the backend.
pub const REPLAY_BATCH: usize = 200;
/// How often a followed replay is looked at.
const FOLLOW_EVERY: Duration = Duration::from_millis(200);

/// Replays `chosen` in batches, calling `advanced` after each with its size; returns how many
/// moved. An error says how many had moved before it.
pub async fn replay(dead: &dyn DeadLetters, chosen: &[Chosen], mut advanced: impl FnMut(u64)) -> anyhow::Result<usize> {
    let mut requeued = 0;
    for batch in chosen.chunks(REPLAY_BATCH) {
        requeued += dead
            .replay(batch)
            .await
            .map_err(|e| e.context(format!("requeued {requeued} dead letter(s), then failed")))?;
        advanced(batch.len() as u64);
    }
    Ok(requeued)
}

/// Purges `chosen` in batches; returns how many went.
pub async fn purge(dead: &dyn DeadLetters, chosen: &[Chosen]) -> anyhow::Result<usize> {
    let mut purged = 0;
    for batch in chosen.chunks(REPLAY_BATCH) {
        purged += dead
            .purge(batch)
            .await
            .map_err(|e| e.context(format!("purged {purged} dead letter(s), then failed")))?;
    }
    Ok(purged)
}

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplaySummary {
    /// Dead letters that matched.
    pub matched: usize,
    /// Moved back into the queue.
    pub requeued: usize,
    /// When followed: delivered since.
    pub delivered: usize,
    /// When followed: dead-lettered again.
    pub failed_again: usize,
    /// When followed: still waiting when the wait ended.
    pub waiting: usize,
}

/// Follows replayed events (`summary.requeued` of `chosen`, replayed at `since_ms`) for up to
/// `wait`: until none waits, calling `ticked` after every look.
pub async fn follow(
    dead: &dyn DeadLetters,
    chosen: &[Chosen],
    since_ms: i64,
    wait: Duration,
    summary: &mut ReplaySummary,
    mut ticked: impl FnMut(&ReplaySummary),
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (waiting, failed) = dead.settled(chosen, since_ms).await?;
        summary.waiting = waiting.min(summary.requeued.saturating_sub(failed));
        summary.failed_again = failed;
        summary.delivered = summary.requeued.saturating_sub(summary.waiting + failed);
        ticked(summary);
        if summary.waiting == 0 || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}
