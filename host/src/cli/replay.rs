//! `switchyard replay`: re-run quarantined requests through the current config and plugins —
//! after a plugin fix, say — delivering what now succeeds to the sinks. Replayed entries move
//! to `quarantine/replayed/`; the others stay, with the new reason.

use super::Progress;
use crate::config;
use crate::event::AuthKind;
use crate::plugin::Runtime;
use anyhow::Context;
use std::path::Path;

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplaySummary {
    /// Entries looked at.
    pub total: usize,
    /// Processed and delivered; moved to `replayed/`.
    pub replayed: usize,
    /// Still failing (kept).
    pub failed: usize,
    /// Skipped by the filters (or whose source no longer exists).
    pub skipped: usize,
}

/// Replays quarantined requests; `source` and `since` (an RFC 3339 prefix compare) filter them.
/// Progress: a bar (or one line per entry).
pub async fn replay(
    config_path: &Path,
    source: Option<&str>,
    since: Option<&str>,
    progress: &Progress,
) -> anyhow::Result<ReplaySummary> {
    let spec = config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = Runtime::with_disk_cache(Some(spec.server.data_dir.join("cache")))?;
    let pipeline = crate::pipeline::build(spec, &runtime).await?;
    let entries = pipeline.quarantine().list().context("reading the quarantine")?;
    progress.set_len(entries.len() as u64);
    let mut summary = ReplaySummary {
        total: entries.len(),
        ..Default::default()
    };
    for (i, entry) in entries.iter().enumerate() {
        let step = format!("[{}/{}] {}", i + 1, entries.len(), entry.delivery_id);
        let wanted = source.is_none_or(|s| entry.source_id.as_deref() == Some(s))
            && since.is_none_or(|t| entry.received_at.as_str() >= t);
        let live = entry.source_id.as_deref().and_then(|id| pipeline.source_by_id(id));
        let (true, Some(live)) = (wanted, live) else {
            summary.skipped += 1;
            progress.step(&format!("{step} skipped"));
            continue;
        };
        if entry.truncated {
            summary.skipped += 1;
            progress.step(&format!("{step} skipped: the body was cut at the size cap"));
            continue;
        }
        let request = entry.request()?;
        match pipeline.process(live, &request, AuthKind::None).await {
            Ok(p) => {
                pipeline.quarantine().resolve(&entry.delivery_id).await?;
                summary.replayed += 1;
                progress.step(&format!("{step} replayed: {} event(s)", p.emitted));
            }
            Err(e) => {
                summary.failed += 1;
                progress.step(&format!("{step} still failing: {e}"));
            }
        }
    }
    // Webhook events are committed to the queue: the running router (or the next start)
    // delivers them.
    pipeline.queue().flush().await?;
    progress.finish();
    Ok(summary)
}
