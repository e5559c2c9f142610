//! The admin API's actions: what changes state (dead letters requeued or purged, a
//! quarantined request replayed, a reload). Reads are in `api`; both share its helpers.

use super::api::{Answer, Problem, blocking, ok, outbox_path};
use super::jobs::Jobs;
use super::json_body;
use crate::ingest::Shared;
use crate::outbox::sql as store;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// Dead letters requeued per transaction (the router's own writes interleave between them).
const REPLAY_BATCH: usize = 200;

/// Which dead letters an action names (the request body, read once for both stores).
pub(super) enum Selection {
    /// `{"ids": [..]}`.
    Ids(Vec<i64>),
    /// `{"all": true}`, with an optional `"sink"`.
    All(Option<String>),
}

impl Selection {
    pub(super) fn of(body: &Value) -> Result<Selection, Problem> {
        if let Some(ids) = body.get("ids") {
            return ids
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .filter(|v: &Vec<i64>| !v.is_empty())
                .map(Selection::Ids)
                .ok_or_else(|| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "`ids` must be a non-empty list of dead-letter ids",
                    )
                });
        }
        if body.get("all").and_then(Value::as_bool) != Some(true) {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "say which dead letters: {\"ids\": [1, 2]}, or {\"all\": true} with an optional \"sink\"",
            ));
        }
        Ok(Selection::All(
            body.get("sink").and_then(Value::as_str).map(str::to_string),
        ))
    }
}

/// The outbox's dead letters an action names, as (id, sink).
async fn selected(shared: &Shared, body: &Value) -> Result<Vec<(i64, String)>, Problem> {
    let path = outbox_path(shared);
    match Selection::of(body)? {
        Selection::Ids(ids) => blocking(move || store::dead_letter_sinks(&store::connect(&path)?, &ids)).await,
        Selection::All(sink) => {
            blocking(move || store::dead_letter_ids(&store::connect(&path)?, sink.as_deref())).await
        }
    }
}

pub(super) async fn replay_dead_letters(shared: &Arc<Shared>, body: &Value) -> Answer {
    if let Some(cluster) = shared.pipeline().cluster() {
        return super::dead_cluster::replay(shared, cluster, body).await;
    }
    let chosen = selected(shared, body).await?;
    let console = shared.console().clone();
    let (id, progress) = Jobs::start(&console, "replay dead letters");
    progress.total(chosen.len() as u64);
    let path = outbox_path(shared);
    let store = shared.pipeline().outbox().clone();
    tokio::spawn(async move {
        let mut requeued = 0;
        for chunk in chosen.chunks(REPLAY_BATCH) {
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            let path = path.clone();
            match blocking(move || store::requeue(&mut store::connect(&path)?, &ids)).await {
                Ok(n) => requeued += n,
                Err(Problem(_, e)) => {
                    progress.finish(Err(format!("requeued {requeued}, then: {e}")));
                    return;
                }
            }
            let mut sinks: Vec<&str> = chunk.iter().map(|(_, s)| s.as_str()).collect();
            sinks.dedup();
            for sink in sinks {
                store.waker(sink).notify_one();
            }
            progress.advance(chunk.len() as u64);
        }
        tracing::info!(requeued, "Dead letters requeued from the admin API.");
        progress.finish(Ok(format!("requeued {requeued} dead letter(s)")));
    });
    Ok(json_body(
        StatusCode::ACCEPTED,
        &json!({ "job": id, "matched": shared.console().jobs.get(id).map(|j| j.total) }),
    ))
}

pub(super) async fn purge_dead_letters(shared: &Shared, body: &Value) -> Answer {
    if body.get("confirm").and_then(Value::as_str) != Some("purge") {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "purging deletes dead letters for good: add \"confirm\": \"purge\"",
        ));
    }
    if let Some(cluster) = shared.pipeline().cluster() {
        return super::dead_cluster::purge(cluster, body).await;
    }
    let ids: Vec<i64> = selected(shared, body).await?.into_iter().map(|(id, _)| id).collect();
    let path = outbox_path(shared);
    let purged = blocking(move || store::purge_ids(&mut store::connect(&path)?, &ids)).await?;
    tracing::warn!(purged, "Dead letters purged from the admin API.");
    ok(&json!({ "purged": purged }))
}

pub(super) async fn replay_quarantined(shared: &Shared, id: &str) -> Answer {
    let pipeline = shared.pipeline();
    let entry = pipeline
        .quarantine()
        .get(id)
        .map_err(|e| Problem::internal(format!("reading quarantine entry {id}: {e:#}")))?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, format!("no pending quarantine entry {id}")))?;
    if entry.truncated {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "this entry's body was cut at a size cap; only its start was kept, so it cannot be replayed",
        ));
    }
    let source = entry
        .source_id
        .as_deref()
        .and_then(|s| pipeline.source_by_id(s))
        .cloned()
        .ok_or_else(|| {
            Problem::new(
                StatusCode::CONFLICT,
                format!(
                    "source `{}` is not in the running config",
                    entry.source_id.as_deref().unwrap_or("-")
                ),
            )
        })?;
    let request = entry
        .request()
        .map_err(|e| Problem::new(StatusCode::CONFLICT, format!("{e:#}")))?;
    match pipeline.process(&source, &request, crate::event::AuthKind::None).await {
        Ok(processed) => {
            shared.observed(&pipeline, &request, &processed);
            pipeline
                .quarantine()
                .resolve(id)
                .await
                .map_err(|e| Problem::internal(format!("moving {id} to replayed/: {e:#}")))?;
            tracing::info!(delivery_id = %id, events = processed.emitted, "Quarantined request replayed from the admin API.");
            ok(&json!({ "replayed": id, "events": processed.emitted, "duplicates": processed.duplicates }))
        }
        Err(e) => {
            if let crate::pipeline::ProcessError::Plugin(error) = &e {
                shared.plugin_failed(&pipeline, error);
            }
            Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("still failing (the entry stays in the quarantine): {e}"),
            ))
        }
    }
}

pub(super) async fn reload(shared: &Shared) -> Answer {
    match shared.request_reload(crate::reload::Trigger::Admin).await {
        Some(outcome) => {
            let status = if outcome.outcome == "rejected" {
                StatusCode::CONFLICT
            } else {
                StatusCode::OK
            };
            Ok(json_body(status, &serde_json::to_value(&outcome).unwrap_or_default()))
        }
        None => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "hot reload is not running",
        )),
    }
}
