//! Self-test: every sample a source lists goes through the new pipeline's plugins (no sinks,
//! no dedup, no blob writes) and, when an expected output is given, must produce exactly it.

use crate::event::AuthKind;
use crate::pipeline::Pipeline;
use serde_json::Value;

/// Replaces per-run values (event ids, delivery ids, receive times, first-sighting ids,
/// decision latencies) with placeholders such as `<event_uid>`, so normalized output compares
/// across runs.
pub fn mask_volatile(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if matches!(
                    k.as_str(),
                    "event_uid" | "received_at" | "delivery_id" | "duplicate_of" | "decision_latency_ms"
                ) && !v.is_null()
                {
                    *v = Value::String(format!("<{k}>"));
                } else {
                    mask_volatile(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_volatile),
        _ => {}
    }
}

/// Runs every source's samples; the error names the source, the sample and what went wrong.
pub async fn self_test(pipeline: &Pipeline) -> anyhow::Result<usize> {
    let mut ran = 0;
    for source in &pipeline.spec().sources {
        let Some(live) = pipeline.source_by_id(&source.id) else {
            continue;
        };
        for sample in &source.samples {
            let name = sample.request.display();
            let bytes = tokio::fs::read(&sample.request)
                .await
                .map_err(|e| anyhow::anyhow!("source `{}`: sample {name}: {e}", source.id))?;
            let request = crate::capture::request_from(&bytes, &source.id)?;
            let processed = pipeline
                .transform_request_with(live, &request, AuthKind::None, false)
                .await
                .map_err(|e| anyhow::anyhow!("source `{}`: sample {name} failed: {e}", source.id))?;
            // A decider that traps or fails on a sample would answer every door by the
            // fallback: refuse it now. (Lateness is left to the deadline: a reload on a busy
            // machine is not a broken plugin.)
            if let Some(decision) = &processed.decision
                && matches!(
                    decision.outcome,
                    crate::decision::Outcome::Trapped | crate::decision::Outcome::Failed
                )
            {
                anyhow::bail!(
                    "source `{}`: sample {name}: the decider failed ({})",
                    source.id,
                    decision.reason.as_deref().unwrap_or("no reason")
                );
            }
            if let Some(expect) = &sample.expect {
                let text = tokio::fs::read_to_string(expect).await.map_err(|e| {
                    anyhow::anyhow!("source `{}`: expected output {}: {e}", source.id, expect.display())
                })?;
                let mut wanted: Value =
                    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", expect.display()))?;
                let mut got = serde_json::to_value(processed.events.iter().map(|e| e.as_ref()).collect::<Vec<_>>())?;
                mask_volatile(&mut wanted);
                mask_volatile(&mut got);
                if wanted != got {
                    anyhow::bail!(
                        "source `{}`: sample {name} no longer produces {} (got {got})",
                        source.id,
                        expect.display()
                    );
                }
            }
            ran += 1;
        }
    }
    Ok(ran)
}
