//! The console's dead letters in cluster mode: the cluster's dead-letter stream (shared by
//! every router) instead of this router's outbox, with the same answers as `api`/`actions`.

use super::actions::Selection;
use super::api::{Answer, Problem, ok};
use super::jobs::Jobs;
use super::json_body;
use crate::cluster::{Cluster, DeadLetters};
use crate::ingest::Shared;
use crate::outbox::DeadLetter;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

fn failed(e: anyhow::Error) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the cluster's dead letters: {e:#}"),
    )
}

/// `GET dead-letters?sink&limit`: the newest first.
pub(super) async fn list(cluster: &Arc<Cluster>, sink: Option<&str>, limit: usize) -> Answer {
    let mut letters = DeadLetters::of(cluster.clone())
        .list(sink, None)
        .await
        .map_err(failed)?;
    let total = letters.len();
    letters.reverse();
    letters.truncate(limit);
    let rows: Vec<Value> = letters.iter().map(super::api::dead_letter_row).collect();
    ok(&json!({ "dead_letters": rows, "total": total }))
}

/// The cluster's dead letters an action names.
async fn selected(dead: &DeadLetters, body: &Value) -> Result<Vec<DeadLetter>, Problem> {
    match Selection::of(body)? {
        Selection::Ids(ids) => {
            let all = dead.list(None, None).await.map_err(failed)?;
            Ok(all.into_iter().filter(|d| ids.contains(&d.id)).collect())
        }
        Selection::All(sink) => dead.list(sink.as_deref(), None).await.map_err(failed),
    }
}

/// `POST dead-letters/replay`: a job that puts them back in the cluster's outbox stream.
pub(super) async fn replay(shared: &Arc<Shared>, cluster: &Arc<Cluster>, body: &Value) -> Answer {
    let dead = DeadLetters::of(cluster.clone());
    let chosen = selected(&dead, body).await?;
    let console = shared.console().clone();
    let (id, progress) = Jobs::start(&console, "replay dead letters");
    progress.total(chosen.len() as u64);
    tokio::spawn(async move {
        let mut requeued = 0;
        for letter in &chosen {
            if let Err(e) = dead.replay(letter).await {
                progress.finish(Err(format!("requeued {requeued}, then: {e:#}")));
                return;
            }
            requeued += 1;
            progress.advance(1);
        }
        tracing::info!(requeued, "Cluster dead letters requeued from the admin API.");
        progress.finish(Ok(format!("requeued {requeued} dead letter(s)")));
    });
    Ok(json_body(
        StatusCode::ACCEPTED,
        &json!({ "job": id, "matched": shared.console().jobs.get(id).map(|j| j.total) }),
    ))
}

/// `POST dead-letters/purge` (confirmation checked by the caller).
pub(super) async fn purge(cluster: &Arc<Cluster>, body: &Value) -> Answer {
    let dead = DeadLetters::of(cluster.clone());
    let mut purged = 0;
    for letter in selected(&dead, body).await? {
        dead.delete(letter.id).await.map_err(failed)?;
        purged += 1;
    }
    tracing::warn!(purged, "Cluster dead letters purged from the admin API.");
    ok(&json!({ "purged": purged }))
}
