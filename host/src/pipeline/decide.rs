//! The decision stage: between the normalizer and the reply of a source with a `decider`.
//!
//! The decider rules on the request's first event within what is left of the source's
//! `decision.deadline_ms` (counted from the complete request, so waiting for a plugin thread
//! counts); late, trapped, failed or never asked because the deadline had already passed, the
//! source's fallback answers instead. The normalizer's `answer` then renders the ruling as
//! its vendor's reply, and the decision is written into the event's `access`. Nothing here
//! touches a disk or a network: the media, filters, transforms and the commit come after the
//! reply has gone out.

use super::build::Decider;
use super::{Pipeline, ProcessError, Source};
use crate::config::Fallback;
use crate::decision::{Outcome, Record};
use crate::event::{DecidedBy, Decision, Event};
use crate::plugin::{Normalized, Place, Request, Ruling};
use std::time::Instant;

/// A decision and the decider's failure behind a fallback (counted against the plugin).
#[derive(Debug)]
pub struct Decided {
    /// The decision.
    pub record: Record,
    /// Why the decider did not rule, when the fallback answered because of it.
    pub fault: Option<crate::plugin::Error>,
}

/// The outcome of a decider's failure.
fn outcome_of(error: &crate::plugin::Error) -> Outcome {
    use crate::plugin::Error as E;
    match error {
        E::Late { .. } => Outcome::Late,
        E::Trapped { .. } | E::DeadlineExceeded { .. } | E::ResourceLimit { .. } => Outcome::Trapped,
        _ => Outcome::Failed,
    }
}

/// Decider calls running at once, per core. A decider runs on the request's own task, so
/// every running one shares the I/O threads in epoch slices: thirty-two spinning deciders on
/// two cores made each door wait its turn for hundreds of milliseconds past its deadline. With
/// at most this many per core, a door whose deadline passes while it waits for a slot is
/// answered by the fallback at its deadline (`overloaded`), and the running ones are few
/// enough to be cut off on time.
const DECIDER_SLOTS_PER_CORE: usize = 2;

/// The decider slots of this process (the cores are the process's).
fn decider_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        tokio::sync::Semaphore::new(DECIDER_SLOTS_PER_CORE * cores)
    });
    &SLOTS
}

/// Where a decision's plugin work runs (normalizer, decider, `answer`): on the request's own
/// task, never queued behind other requests' plugin work on the plugin threads — a door's
/// few tens of microseconds of guest time must not wait for a 100-event batch, and a
/// fallback must not queue behind the work that made the decider late.
pub(super) const DECISION_PLACE: Place = Place::Caller;

/// The ruling the fallback gives (`None` for `device`: the normalizer's reply stands).
fn fallback_ruling(decider: &Decider) -> Option<Ruling> {
    let decision = match decider.spec.fallback {
        Fallback::Deny => Decision::Denied,
        Fallback::Grant => Decision::Granted,
        Fallback::Device => return None,
    };
    Some(Ruling {
        decision,
        custom_tip: decider.spec.tip_on_fallback.clone(),
        details: serde_json::json!({}),
    })
}

/// The `reason` in a ruling's details (recorded in the event; the normalizer may translate
/// it for its vendor, e.g. SenseNebula's `verify_code`, but does not send it as is).
fn reason_of(ruling: &Ruling) -> Option<String> {
    Some(match ruling.details.get("reason")? {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// What a decision came to, before the reply.
struct Ruled {
    outcome: Outcome,
    /// The ruling the normalizer renders; `None` leaves its own reply (an abstention, or
    /// `fallback = "device"`).
    ruling: Option<Ruling>,
    decided_by: DecidedBy,
    reason: Option<String>,
    /// The decider's failure behind a fallback.
    fault: Option<crate::plugin::Error>,
}

/// Turns the decider's answer (`None`: never asked, the deadline had passed) into the
/// decision: the plugin's ruling, an abstention, or the source's fallback.
fn ruled(decider: &Decider, event: &Event, asked: Option<Result<Ruling, crate::plugin::Error>>) -> Ruled {
    let (outcome, why, fault) = match asked {
        Some(Ok(ruling)) => {
            let (outcome, decided_by) = match ruling.decision {
                // An abstention: whoever the normalizer said decided, still did.
                Decision::Unknown => (
                    Outcome::Abstained,
                    event
                        .access
                        .as_ref()
                        .map_or(DecidedBy::Reported(crate::event::DecidedByKind::Unknown), |a| {
                            a.decided_by.clone()
                        }),
                ),
                Decision::Granted => (Outcome::Granted, DecidedBy::Plugin(decider.plugin.id().to_string())),
                Decision::Denied => (Outcome::Denied, DecidedBy::Plugin(decider.plugin.id().to_string())),
            };
            return Ruled {
                outcome,
                reason: reason_of(&ruling),
                ruling: (outcome != Outcome::Abstained).then_some(ruling),
                decided_by,
                fault: None,
            };
        }
        Some(Err(error)) => {
            let outcome = outcome_of(&error);
            (outcome, format!("{}: {error}", outcome.as_str()), Some(error))
        }
        None => (
            Outcome::Overloaded,
            format!(
                "overloaded: the {} ms deadline had passed before the decider could be asked",
                decider.spec.deadline.as_millis()
            ),
            None,
        ),
    };
    let ruling = fallback_ruling(decider);
    Ruled {
        outcome,
        decided_by: if ruling.is_some() {
            DecidedBy::Fallback
        } else {
            DecidedBy::DEVICE
        },
        ruling,
        reason: Some(why),
        fault,
    }
}

impl Pipeline {
    /// Decides the request's first event and renders the ruling as the reply (see the module
    /// docs). `None` when the source has no decider or the request no event.
    pub(super) async fn decide(
        &self,
        source: &Source,
        request: &Request,
        normalized: &mut Normalized,
        started: Instant,
    ) -> Result<Option<Decided>, ProcessError> {
        let (Some(decider), Some(event)) = (&source.decider, normalized.events.first()) else {
            return Ok(None);
        };
        let deadline = decider.spec.deadline;
        let slot = tokio::time::timeout(deadline.saturating_sub(started.elapsed()), decider_slots().acquire()).await;
        let remaining = deadline.saturating_sub(started.elapsed());
        let asked = match slot {
            Ok(Ok(_slot)) if !remaining.is_zero() => Some(
                decider
                    .plugin
                    .decide_event(event, &decider.zone, remaining, DECISION_PLACE)
                    .await,
            ),
            // No slot before the deadline (or none left after it): the fallback answers.
            _ => None,
        };
        let latency = started.elapsed();
        let event = &normalized.events[0];
        let Ruled {
            outcome,
            ruling,
            decided_by,
            reason,
            fault,
        } = ruled(decider, event, asked);
        let decision = match &ruling {
            Some(r) => r.decision,
            // `device` and abstentions: what the terminal (or normalizer) recorded.
            None => event.access.as_ref().map_or(Decision::Unknown, |a| a.decision),
        };
        let record = Record {
            at: crate::clock::now_rfc3339(),
            source: source.spec.id.clone(),
            delivery_id: request.delivery_id.clone(),
            event_uid: event.event_uid.clone(),
            person_id: event.subject.as_ref().and_then(|s| s.person_id.clone()),
            device_id: event.source.device_id.clone(),
            decision,
            decided_by,
            outcome,
            reason,
            tip: ruling.as_ref().and_then(|r| r.custom_tip.clone()),
            latency_ms: (latency.as_secs_f64() * 1e6).round() / 1e3,
        };
        if let Some(ruling) = &ruling {
            let reply = source
                .normalizer
                .answer_request(request, event, ruling, DECISION_PLACE)
                .await?;
            super::validate::reply(
                source.normalizer.id(),
                &reply,
                &self.spec().server.limits,
                request.body.len(),
            )?;
            normalized.reply = Some(reply);
        }
        record.apply(&mut normalized.events[0]);
        Ok(Some(Decided { record, fault }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_read_from_the_details() {
        let mut ruling = Ruling {
            decision: Decision::Denied,
            custom_tip: None,
            details: serde_json::json!({ "reason": "outside-hours", "user_name": "Jane" }),
        };
        assert_eq!(reason_of(&ruling).as_deref(), Some("outside-hours"));
        ruling.details = serde_json::json!({ "reason": 7 });
        assert_eq!(reason_of(&ruling).as_deref(), Some("7"));
        ruling.details = serde_json::json!({});
        assert_eq!(reason_of(&ruling), None);
    }
}
