//! What plugin output must satisfy before it reaches routes and the sender: the caps of
//! `[server.limits]` (events per request, event size, reply size) and the event contract
//! (schema, vendor, the host-owned fields a transform must keep). A contract violation is the
//! plugin's fault: `plugin::Error::Contract`, answered 500, the request quarantined, counted
//! per plugin in `switchyard_plugin_errors_total{kind="invalid_result"}` and against its
//! rollback policy.
//!
//! An output over a cap is the plugin's fault only when its input does not explain it. A
//! normalizer that copies a 900 KB field into its event, or returns one event per element of
//! a 20 000-element batch, does its job on an input too big for the router's limits; counting
//! that as a fault would let any sender roll back a freshly deployed plugin with a few big
//! POSTs. So an output within [`AMPLIFICATION`] × the request's body bytes (JSON escaping
//! can turn one byte into six), or an event count within its body bytes, is
//! `plugin::Error::OverLimit` (422, quarantined, `kind="over_limit"`, no fault); beyond that
//! the plugin made it up, and it is a `Contract` fault.
//! (Reply headers are checked where the reply is converted, `plugin::convert`.)

use crate::config::EdgeLimits;
use crate::event::{Encoding, Event, SCHEMA};
use crate::plugin::{self, Normalized};
use bytes::Bytes;

/// How many bytes of output one byte of input can explain.
pub(crate) const AMPLIFICATION: usize = 8;
/// What an event may hold beyond its share of the input: the normalized record's own
/// structure and the host's fields (a 200-byte GET becomes a 2 KB event), a transform's
/// enrichment from its settings.
pub(crate) const EVENT_OVERHEAD: usize = 16 << 10;

fn contract(plugin: &str, reason: String) -> plugin::Error {
    plugin::Error::Contract {
        plugin: plugin.to_string(),
        reason,
    }
}

/// An output of `output` units over a cap: the input's doing when `explained`, else a fault.
fn over(plugin: &str, explained: bool, reason: String) -> plugin::Error {
    if explained {
        plugin::Error::OverLimit {
            plugin: plugin.to_string(),
            reason,
        }
    } else {
        contract(plugin, format!("{reason}, out of proportion to its input"))
    }
}

/// A normalizer's result, before the host stamps its fields; `input` is the request body's
/// size (what can explain a big output).
pub(super) fn normalized(plugin: &str, n: &Normalized, limits: &EdgeLimits, input: usize) -> Result<(), plugin::Error> {
    count(plugin, n.events.len(), limits, input)?;
    if let Some(reply) = &n.reply {
        self::reply(plugin, reply, limits, input)?;
    }
    for (index, event) in n.events.iter().enumerate() {
        if !event.schema.is_empty() && event.schema != SCHEMA {
            return Err(contract(
                plugin,
                format!("event {index}: schema `{}` is not `{SCHEMA}`", event.schema),
            ));
        }
        vendor(plugin, index, event)?;
    }
    Ok(())
}

/// A reply a normalizer chose, from `normalize` or from `answer`: its body must fit
/// `max_reply_bytes` (its framing is checked where it is converted, `plugin::convert`).
pub(super) fn reply(
    plugin: &str,
    reply: &plugin::Reply,
    limits: &EdgeLimits,
    input: usize,
) -> Result<(), plugin::Error> {
    if reply.body.len() > limits.max_reply_bytes {
        return Err(over(
            plugin,
            reply.body.len() <= input.saturating_mul(AMPLIFICATION),
            format!(
                "reply body of {} bytes exceeds `limits.max_reply_bytes` ({})",
                reply.body.len(),
                limits.max_reply_bytes
            ),
        ));
    }
    Ok(())
}

/// Events after a stage that may rewrite them (a transform), and the final events: the
/// host-owned fields must still be there, and each event must fit `max_event_bytes`.
///
/// Returns each event's JSON in the full encoding: the sizes are checked on the very bytes
/// the outbox and every full-encoding sink then carry, so a request's events are
/// serialized once however many places they go to.
pub(super) fn events(
    plugin: &str,
    events: &[Event],
    limits: &EdgeLimits,
    input: usize,
) -> Result<Vec<Bytes>, plugin::Error> {
    count(plugin, events.len(), limits, input)?;
    // Within every per-event cap, a plugin can still return far more than it was given (one
    // string repeated in many events): that is the plugin's doing, and nothing of it goes on.
    // Checked as the bytes are made, so what is held never passes what the input explains.
    let allowed = input
        .saturating_mul(AMPLIFICATION)
        .saturating_add(events.len().saturating_mul(EVENT_OVERHEAD));
    let mut total = 0usize;
    let mut encoded = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        if event.schema != SCHEMA {
            return Err(contract(
                plugin,
                format!("event {index}: schema `{}` is not `{SCHEMA}`", event.schema),
            ));
        }
        vendor(plugin, index, event)?;
        for (field, value) in [
            ("event_uid", &event.event_uid),
            ("received_at", &event.received_at),
            ("delivery.delivery_id", &event.delivery.delivery_id),
        ] {
            if value.is_empty() {
                return Err(contract(plugin, format!("event {index}: `{field}` is empty")));
            }
        }
        let json = crate::event::encode(event, Encoding::Full)
            .map_err(|e| contract(plugin, format!("event {index} cannot be written as JSON: {e}")))?;
        let size = json.len();
        total += size;
        if size > limits.max_event_bytes {
            return Err(over(
                plugin,
                size <= input.saturating_mul(AMPLIFICATION),
                format!(
                    "event {index} is {size} bytes as JSON, over `limits.max_event_bytes` ({})",
                    limits.max_event_bytes
                ),
            ));
        }
        if total > allowed {
            return Err(contract(
                plugin,
                format!(
                    "returned more than {allowed} bytes of events from a {input}-byte request ({total} by event {index}): more than {AMPLIFICATION}× its input plus {EVENT_OVERHEAD} bytes per event"
                ),
            ));
        }
        encoded.push(Bytes::from(json));
    }
    Ok(encoded)
}

fn count(plugin: &str, n: usize, limits: &EdgeLimits, input: usize) -> Result<(), plugin::Error> {
    if n > limits.max_events_per_request {
        return Err(over(
            plugin,
            n <= input,
            format!(
                "returned {n} events, over `limits.max_events_per_request` ({})",
                limits.max_events_per_request
            ),
        ));
    }
    Ok(())
}

fn vendor(plugin: &str, index: usize, event: &Event) -> Result<(), plugin::Error> {
    if event.vendor.trim().is_empty() {
        return Err(contract(plugin, format!("event {index}: `vendor` is empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> EdgeLimits {
        crate::config::load_str("version = 1\n", std::path::Path::new("/tmp/router.toml"))
            .expect("minimal config")
            .server
            .limits
    }

    #[test]
    fn events_must_keep_the_contract_and_fit() {
        let mut limits = limits();
        let event = crate::dedup::tests::event("k", "01J", 0.5);
        let input = 10_000;
        assert!(events("p", std::slice::from_ref(&event), &limits, input).is_ok());
        let mut blank_vendor = event.clone();
        blank_vendor.vendor = " ".into();
        let err = events("p", &[blank_vendor], &limits, input).unwrap_err().to_string();
        assert!(err.contains("`vendor` is empty"), "{err}");
        let mut other_schema = event.clone();
        other_schema.schema = "router.event/v9".into();
        assert!(events("p", &[other_schema], &limits, input).is_err());
        let mut no_uid = event.clone();
        no_uid.event_uid.clear();
        assert!(
            events("p", &[no_uid], &limits, input)
                .unwrap_err()
                .to_string()
                .contains("event_uid")
        );
        limits.max_event_bytes = 100;
        let err = events("p", std::slice::from_ref(&event), &limits, input).unwrap_err();
        assert!(
            matches!(err, plugin::Error::OverLimit { .. }),
            "a big input explains a big event: {err}"
        );
        assert!(err.to_string().contains("max_event_bytes"), "{err}");
        let err = events("p", std::slice::from_ref(&event), &limits, 10).unwrap_err();
        assert!(
            matches!(err, plugin::Error::Contract { .. }),
            "ten bytes do not explain a big event: {err}"
        );
        limits.max_event_bytes = 1 << 20;
        limits.max_events_per_request = 1;
        let err = events("p", &[event.clone(), event.clone()], &limits, input).unwrap_err();
        assert!(matches!(err, plugin::Error::OverLimit { .. }) && err.to_string().contains("returned 2 events"));
        let err = events("p", &[event.clone(), event.clone()], &limits, 1).unwrap_err();
        assert!(matches!(err, plugin::Error::Contract { .. }), "{err}");
        // Events that each fit, but together are far more than the input explains.
        limits.max_events_per_request = 10_000;
        let mut big = event.clone();
        big.vendor_extras =
            crate::event::JsonObject::from_value(&serde_json::json!({ "copy": "y".repeat(100_000) })).expect("object");
        let many = vec![big; 50];
        assert!(
            events("p", &many, &limits, 1_000_000).is_ok(),
            "a big input explains them"
        );
        let err = events("p", &many, &limits, 10_000).unwrap_err();
        assert!(
            matches!(err, plugin::Error::Contract { .. }) && err.to_string().contains("bytes of events"),
            "{err}"
        );
    }

    #[test]
    fn the_bytes_checked_are_the_bytes_kept() {
        let mut limits = limits();
        let event = crate::dedup::tests::event("k", "01J", 0.5);
        let full = crate::event::encode(&event, Encoding::Full).expect("encode");
        limits.max_event_bytes = full.len();
        let kept = events("p", std::slice::from_ref(&event), &limits, 10_000).expect("fits exactly");
        assert_eq!(
            kept,
            vec![Bytes::from(full.clone())],
            "the full encoding, as the sinks write it"
        );
        limits.max_event_bytes = full.len() - 1;
        assert!(events("p", std::slice::from_ref(&event), &limits, 10_000).is_err());
    }
}
