//! The admin API's actions: what changes state (dead letters requeued or purged — in
//! whichever durable queue the router runs —, a quarantined request replayed, a reload). Reads
//! are in `api`; both share its helpers.

use super::context::Admin;
use super::jobs::Jobs;
use super::reply::json_body;
use super::reply::{Answer, Problem, ok};
use crate::queue::{self, Selection};
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// Which dead letters an action names: `{"ids": [..]}`, or `{"all": true}` with an optional
/// `"sink"`.
fn selection(body: &Value) -> Result<Selection, Problem> {
    if let Some(ids) = body.get("ids") {
        return ids
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .filter(|v: &Vec<i64>| !v.is_empty())
            .map(|ids| Selection {
                ids: Some(ids),
                ..Selection::default()
            })
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
    Ok(Selection {
        sink: body.get("sink").and_then(Value::as_str).map(str::to_string),
        ..Selection::default()
    })
}

/// The queue's dead letters cannot be read (the cluster's NATS is away, the outbox file is
/// unreadable).
fn unavailable(e: anyhow::Error) -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, format!("the dead letters: {e:#}"))
}

/// `POST dead-letters/replay`: a job that puts them back in the queue.
pub(super) async fn replay_dead_letters(admin: &Arc<Admin>, body: &Value) -> Answer {
    let dead = admin.router.queue().dead_letters();
    let chosen = dead.select(&selection(body)?).await.map_err(unavailable)?;
    let (id, progress) = Jobs::start(&admin.console, "replay dead letters");
    progress.total(chosen.len() as u64);
    tokio::spawn(async move {
        match queue::replay(dead.as_ref(), &chosen, |n| progress.advance(n)).await {
            Ok(requeued) => {
                tracing::info!(requeued, "Dead letters requeued from the admin API.");
                progress.finish(Ok(format!("requeued {requeued} dead letter(s)")));
            }
            Err(e) => progress.finish(Err(format!("{e:#}"))),
        }
    });
    Ok(json_body(
        StatusCode::ACCEPTED,
        &json!({ "job": id, "matched": admin.console.jobs.get(id).map(|j| j.total) }),
    ))
}

/// `POST dead-letters/purge`: deletes them for good (with `"confirm": "purge"`).
pub(super) async fn purge_dead_letters(admin: &Admin, body: &Value) -> Answer {
    if body.get("confirm").and_then(Value::as_str) != Some("purge") {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "purging deletes dead letters for good: add \"confirm\": \"purge\"",
        ));
    }
    let dead = admin.router.queue().dead_letters();
    let chosen = dead.select(&selection(body)?).await.map_err(unavailable)?;
    let purged = queue::purge(dead.as_ref(), &chosen).await.map_err(unavailable)?;
    tracing::warn!(purged, "Dead letters purged from the admin API.");
    ok(&json!({ "purged": purged }))
}

pub(super) async fn replay_quarantined(admin: &Admin, id: &str) -> Answer {
    let pipeline = admin.router.pipeline();
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
            admin.router.observed(&pipeline, &request, &processed);
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
                admin.router.plugin_failed(&pipeline, error);
            }
            Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("still failing (the entry stays in the quarantine): {e}"),
            ))
        }
    }
}

pub(super) async fn reload(admin: &Admin) -> Answer {
    match admin.router.request_reload(crate::router::Trigger::Admin).await {
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
