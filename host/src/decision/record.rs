//! One decision as the router made it: the ruling, who made it, why, and how long it took.

use crate::event::{Access, DecidedBy, DecidedByKind, Decision, Event};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a decision came about (the `outcome` label of `switchyard_decisions_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The decider granted.
    Granted,
    /// The decider denied.
    Denied,
    /// The decider returned `unknown`: the normalizer's own reply and decision stand.
    Abstained,
    /// Fallback: the decider had not ruled by the deadline (slow, or no plugin thread free).
    Late,
    /// Fallback: the decider trapped or ran out of CPU budget or memory.
    Trapped,
    /// Fallback: the decider reported an error or returned an invalid ruling.
    Failed,
    /// Fallback: the deadline had passed before the decider could be asked.
    Overloaded,
}

impl Outcome {
    /// Every outcome, in label order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Granted,
        Outcome::Denied,
        Outcome::Abstained,
        Outcome::Late,
        Outcome::Trapped,
        Outcome::Failed,
        Outcome::Overloaded,
    ];

    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::Denied => "denied",
            Outcome::Abstained => "abstained",
            Outcome::Late => "late",
            Outcome::Trapped => "trapped",
            Outcome::Failed => "failed",
            Outcome::Overloaded => "overloaded",
        }
    }

    /// Whether the source's fallback answered.
    pub fn is_fallback(self) -> bool {
        !matches!(self, Outcome::Granted | Outcome::Denied | Outcome::Abstained)
    }
}

/// One decision: an audit log line, and what the decided event records in `access`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When it was made (RFC 3339, UTC).
    pub at: String,
    /// The source id.
    pub source: String,
    /// The request's delivery id.
    pub delivery_id: String,
    /// The decided event.
    pub event_uid: String,
    /// Whom it was about, as the normalizer identified them.
    pub person_id: Option<String>,
    /// The terminal.
    pub device_id: Option<String>,
    /// Granted, denied (or, when the decider abstained, what the normalizer recorded).
    pub decision: Decision,
    /// The decider's id, `fallback`, or `device`.
    pub decided_by: DecidedBy,
    /// How it came about.
    pub outcome: Outcome,
    /// The decider's `reason`, or why the fallback answered.
    pub reason: Option<String>,
    /// The text sent to the terminal.
    pub tip: Option<String>,
    /// From the complete request to the ruling, in milliseconds.
    pub latency_ms: f64,
}

impl Record {
    /// The latency as a duration.
    pub fn latency(&self) -> Duration {
        Duration::from_secs_f64(self.latency_ms / 1e3)
    }

    /// Writes the decision into `event.access` (creating it), unless the decider abstained.
    pub fn apply(&self, event: &mut Event) {
        if self.outcome == Outcome::Abstained {
            return;
        }
        let access = event.access.get_or_insert(Access {
            decision: Decision::Unknown,
            decided_by: DecidedBy::Reported(DecidedByKind::Unknown),
            verify_mode_raw: None,
            entry_mode: None,
            entry_mode_raw: None,
            abnormal: None,
            abnormal_raw: None,
            custom_tip: None,
            method: None,
            reason: None,
            decision_latency_ms: None,
        });
        access.decision = self.decision;
        access.decided_by = self.decided_by.clone();
        // With `fallback = "device"` the terminal's tip (if it sent one) stands.
        if self.decided_by != DecidedBy::DEVICE {
            access.custom_tip = self.tip.clone();
        }
        access.reason = self.reason.clone();
        access.decision_latency_ms = Some(self.latency_ms);
    }

    /// The one-line human form (`switchyard decisions tail`).
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} {} {} by {} ({}) in {:.2} ms",
            self.at,
            self.source,
            self.decision,
            self.decided_by.as_str(),
            self.outcome.as_str(),
            self.latency_ms
        );
        if let Some(person) = &self.person_id {
            line.push_str(&format!(" person={person}"));
        }
        if let Some(device) = &self.device_id {
            line.push_str(&format!(" device={device}"));
        }
        if let Some(reason) = &self.reason {
            line.push_str(&format!(" reason={reason:?}"));
        }
        if let Some(tip) = &self.tip {
            line.push_str(&format!(" tip={tip:?}"));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decided_by_is_one_string_and_reads_back() {
        for (by, text) in [
            (DecidedBy::Plugin("door-policy".into()), "door-policy"),
            (DecidedBy::Fallback, "fallback"),
            (DecidedBy::DEVICE, "device"),
            (DecidedBy::Reported(DecidedByKind::VendorCloud), "vendor_cloud"),
        ] {
            let json = serde_json::to_string(&by).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<DecidedBy>(&json).unwrap(), by);
        }
        assert!(DecidedBy::is_reserved("router") && DecidedBy::is_reserved("fallback"));
        assert!(!DecidedBy::is_reserved("door-policy"));
    }

    #[test]
    fn applying_a_decision_fills_access_and_an_abstention_leaves_it() {
        let mut event = crate::dedup::tests::event("k", "01J", 0.5);
        event.access = None;
        let mut record = Record {
            at: "2026-12-01T00:00:00Z".into(),
            source: "door".into(),
            delivery_id: "d".into(),
            event_uid: event.event_uid.clone(),
            person_id: None,
            device_id: None,
            decision: Decision::Denied,
            decided_by: DecidedBy::Fallback,
            outcome: Outcome::Late,
            reason: Some("late: …".into()),
            tip: Some("See reception".into()),
            latency_ms: 300.2,
        };
        record.outcome = Outcome::Abstained;
        record.apply(&mut event);
        assert!(event.access.is_none());
        record.outcome = Outcome::Late;
        record.apply(&mut event);
        let a = event.access.as_ref().unwrap();
        assert_eq!((a.decision, &a.decided_by), (Decision::Denied, &DecidedBy::Fallback));
        assert_eq!(a.custom_tip.as_deref(), Some("See reception"));
        assert_eq!(a.decision_latency_ms, Some(300.2));
        assert!(
            record.line().contains("door denied by fallback (late) in 300.20 ms"),
            "{}",
            record.line()
        );
    }
}
