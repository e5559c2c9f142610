//! How events are written to sinks: every schema field (`full`, the default) or without the
//! fields that carry nothing (`compact`).
//!
//! A normalized FindFace event is ~3.8 KB in full, mostly `null`s of the optional parts the
//! vendor does not fill; compact drops every member whose value is `null`, `[]` or `{}` (after
//! dropping its own empty members), which halves it. The vendor's own data in `vendor_extras`
//! and `vendor_fields_raw` is kept exactly as it is: a vendor field that is explicitly null
//! is information. Readers of compact events treat a missing field as null (the schema's
//! rule for every optional field).

use super::Event;
use serde_json::Value;

/// A sink's `encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Every field of `router.event/v1`, nulls included.
    #[default]
    Full,
    /// Null and empty fields left out.
    Compact,
}

/// Bytes a normalized event usually takes; buffers start this large so that serializing
/// does not grow them several times.
const TYPICAL_EVENT_BYTES: usize = 4096;

/// The event as JSON in `encoding`.
pub fn encode(event: &Event, encoding: Encoding) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(TYPICAL_EVENT_BYTES);
    encode_into(&mut out, event, encoding)?;
    Ok(out)
}

/// Appends the event as JSON in `encoding` to `out`.
fn encode_into(out: &mut Vec<u8>, event: &Event, encoding: Encoding) -> serde_json::Result<()> {
    match encoding {
        Encoding::Full => serde_json::to_writer(out, event),
        Encoding::Compact => {
            let mut value = serde_json::to_value(event)?;
            if let Value::Object(members) = &mut value {
                members.retain(|key, v| {
                    if key != "vendor_extras" && key != "vendor_fields_raw" {
                        prune(v);
                    }
                    !is_empty(v)
                });
            }
            serde_json::to_writer(out, &value)
        }
    }
}

/// The value at `pointer` in an event's JSON as text, for the fields sinks key or name
/// things by (ordering keys, NATS subjects): a string as it is, another value as JSON, null
/// or missing as `None`.
pub fn field_text(event: &Value, pointer: &str) -> Option<String> {
    match event.pointer(pointer) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// Removes empty members from the objects inside `value`, depth first.
fn prune(value: &mut Value) {
    match value {
        Value::Object(members) => members.retain(|_, v| {
            prune(v);
            !is_empty(v)
        }),
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Event {
        serde_json::from_value(json!({
            "schema": "router.event/v1", "event_uid": "u", "dedup_key": null, "vendor": "t", "vendor_product": null,
            "vendor_event_id": "1", "vendor_event_type": null, "category": "recognition", "action": "face_matched",
            "occurred_at": null, "occurred_at_raw": null, "occurred_at_tz_source": "missing", "local_time": null,
            "utc_offset_minutes": 0, "received_at": "2024-01-01T00:00:00Z", "source": {"camera_id": "7"},
            "subject": null, "match": null, "attributes": null,
            "media": [{"role": "face_crop", "url": "http://x/1.jpg", "vendor_media_id": null, "blob_ref": null,
                       "mime": null, "bytes": null, "decode_error": null, "bbox": null}],
            "location": null, "access": null, "alarm": null, "repository": null,
            "delivery": {"transport": "http_post", "delivery_id": "d", "batch_index": null, "batch_size": null,
                         "auth": "none", "signature_valid": null, "duplicate_of": null, "replay_suspected": false},
            "vendor_extras": {"camera": {"url": null, "fps": 0}}, "vendor_fields_raw": {}, "warnings": []
        }))
        .expect("event")
    }

    #[test]
    fn compact_leaves_out_what_carries_nothing() {
        let full: Value = serde_json::from_slice(&encode(&event(), Encoding::Full).unwrap()).unwrap();
        assert!(
            full["subject"].is_null() && full.get("subject").is_some(),
            "full keeps nulls"
        );
        let compact: Value = serde_json::from_slice(&encode(&event(), Encoding::Compact).unwrap()).unwrap();
        assert_eq!(
            compact,
            json!({
                "schema": "router.event/v1", "event_uid": "u", "vendor": "t", "vendor_event_id": "1",
                "category": "recognition", "action": "face_matched", "occurred_at_tz_source": "missing",
                "utc_offset_minutes": 0, "received_at": "2024-01-01T00:00:00Z", "source": {"camera_id": "7"},
                "media": [{"role": "face_crop", "url": "http://x/1.jpg"}],
                "delivery": {"transport": "http_post", "delivery_id": "d", "auth": "none", "replay_suspected": false},
                // The vendor's data stays as it came, explicit nulls included.
                "vendor_extras": {"camera": {"url": null, "fps": 0}}
            })
        );
    }

    #[test]
    fn a_compact_event_reads_back_as_the_same_event() {
        let compact = encode(&event(), Encoding::Compact).unwrap();
        let mut value: Value = serde_json::from_slice(&compact).unwrap();
        // Absent means null: filling the schema's optional members back in gives the event.
        let full: Value = serde_json::from_slice(&encode(&event(), Encoding::Full).unwrap()).unwrap();
        fill(&mut value, &full);
        assert_eq!(value, full);
    }

    /// Adds the members of `full` missing in `compact` (test helper).
    fn fill(compact: &mut Value, full: &Value) {
        match (compact, full) {
            (Value::Object(c), Value::Object(f)) => {
                for (k, v) in f {
                    match c.get_mut(k) {
                        Some(existing) => fill(existing, v),
                        None => {
                            c.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            (Value::Array(c), Value::Array(f)) => c.iter_mut().zip(f).for_each(|(c, f)| fill(c, f)),
            _ => {}
        }
    }
}
