//! Route matching: every condition list must contain the event's value; empty lists match all.

use crate::config::MatchSpec;
use crate::event::Event;

/// Whether `event`, received by source `source_id`, satisfies `m`.
pub fn matches(m: &MatchSpec, event: &Event, source_id: &str) -> bool {
    (m.vendor.is_empty() || m.vendor.iter().any(|v| v == &event.vendor))
        && (m.category.is_empty() || m.category.contains(&event.category))
        && (m.action.is_empty() || m.action.contains(&event.action))
        && (m.source.is_empty() || m.source.iter().any(|s| s == source_id))
}
