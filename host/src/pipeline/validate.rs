//! What plugin output must satisfy before it reaches routes and the sender: the caps of
//! `[server.limits]` (events per request, event size, reply size) and the event contract
//! (schema, vendor, the host-owned fields a transform must keep). A violation is the plugin's
//! fault: `plugin::Error::Contract`, answered 500, the request quarantined, counted per plugin
//! in `switchyard_plugin_errors_total{kind="invalid_result"}`.
//! (Reply headers are checked where the reply is converted, `plugin::convert`.)

use crate::config::EdgeLimits;
use crate::event::{Event, SCHEMA};
use crate::plugin::{self, Normalized};
use std::io::Write;

fn contract(plugin: &str, reason: String) -> plugin::Error {
    plugin::Error::Contract {
        plugin: plugin.to_string(),
        reason,
    }
}

/// A normalizer's result, before the host stamps its fields.
pub(super) fn normalized(plugin: &str, n: &Normalized, limits: &EdgeLimits) -> Result<(), plugin::Error> {
    count(plugin, n.events.len(), limits)?;
    if let Some(reply) = &n.reply {
        self::reply(plugin, reply, limits)?;
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
pub(super) fn reply(plugin: &str, reply: &plugin::Reply, limits: &EdgeLimits) -> Result<(), plugin::Error> {
    if reply.body.len() > limits.max_reply_bytes {
        return Err(contract(
            plugin,
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
pub(super) fn events(plugin: &str, events: &[Event], limits: &EdgeLimits) -> Result<(), plugin::Error> {
    count(plugin, events.len(), limits)?;
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
        let size = json_size(event);
        if size > limits.max_event_bytes {
            return Err(contract(
                plugin,
                format!(
                    "event {index} is {size} bytes as JSON, over `limits.max_event_bytes` ({})",
                    limits.max_event_bytes
                ),
            ));
        }
    }
    Ok(())
}

fn count(plugin: &str, n: usize, limits: &EdgeLimits) -> Result<(), plugin::Error> {
    if n > limits.max_events_per_request {
        return Err(contract(
            plugin,
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

/// The event's size as JSON (full encoding), counted without keeping the bytes.
fn json_size(event: &Event) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing an event cannot fail (string keys only); if it ever did, size 0 lets the
    // sinks report the real error.
    let _ = serde_json::to_writer(&mut count, event);
    count.0
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
        assert!(events("p", std::slice::from_ref(&event), &limits).is_ok());
        let mut blank_vendor = event.clone();
        blank_vendor.vendor = " ".into();
        let err = events("p", &[blank_vendor], &limits).unwrap_err().to_string();
        assert!(err.contains("`vendor` is empty"), "{err}");
        let mut other_schema = event.clone();
        other_schema.schema = "router.event/v9".into();
        assert!(events("p", &[other_schema], &limits).is_err());
        let mut no_uid = event.clone();
        no_uid.event_uid.clear();
        assert!(
            events("p", &[no_uid], &limits)
                .unwrap_err()
                .to_string()
                .contains("event_uid")
        );
        limits.max_event_bytes = 100;
        let err = events("p", std::slice::from_ref(&event), &limits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_event_bytes"), "{err}");
        limits.max_events_per_request = 1;
        let err = events("p", &[event.clone(), event], &limits).unwrap_err().to_string();
        assert!(err.contains("returned 2 events"), "{err}");
    }
}
