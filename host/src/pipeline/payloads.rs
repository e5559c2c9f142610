//! A request's events as the outbox and the sinks carry them: each event's JSON made once
//! per encoding (the full encoding already made when the event's size was checked), its
//! webhook-id once, and its fields parsed once when a sink keys or names something by them
//! — however many routes and sinks the event goes to.

use super::ProcessError;
use crate::dedup::webhook_id_with;
use crate::event::{Encoding, Event};
use bytes::Bytes;

/// Per-event bytes, ids and fields of one request, indexed like its events.
pub(super) struct Payloads {
    prints: Vec<Option<[u8; 32]>>,
    full: Vec<Bytes>,
    compact: Vec<Option<Bytes>>,
    ids: Vec<Option<String>>,
    fields: Vec<Option<serde_json::Value>>,
}

/// An event's JSON in the full encoding (for an event the host changed after the check).
pub(super) fn full(event: &Event) -> Result<Bytes, ProcessError> {
    encode(event, Encoding::Full)
}

fn encode(event: &Event, encoding: Encoding) -> Result<Bytes, ProcessError> {
    crate::event::encode(event, encoding)
        .map(Bytes::from)
        .map_err(|e| ProcessError::Outbox(anyhow::anyhow!("encoding the event: {e}")))
}

impl Payloads {
    /// For events whose dedup fingerprints (where computed) are `prints` and whose full JSON
    /// is `full`.
    pub(super) fn new(prints: Vec<Option<[u8; 32]>>, full: Vec<Bytes>) -> Payloads {
        let n = prints.len();
        debug_assert_eq!(full.len(), n, "one JSON per event");
        Payloads {
            prints,
            full,
            compact: vec![None; n],
            ids: vec![None; n],
            fields: vec![None; n],
        }
    }

    /// Event `index` as JSON in `encoding`.
    pub(super) fn json(&mut self, index: usize, event: &Event, encoding: Encoding) -> Result<Bytes, ProcessError> {
        Ok(match (encoding, &mut self.compact[index]) {
            (Encoding::Full, _) => self.full[index].clone(),
            (Encoding::Compact, Some(known)) => known.clone(),
            (Encoding::Compact, slot @ None) => slot.insert(encode(event, encoding)?).clone(),
        })
    }

    /// Event `index`'s webhook-id (also its NATS message id).
    pub(super) fn webhook_id(&mut self, index: usize, event: &Event) -> String {
        self.ids[index]
            .get_or_insert_with(|| webhook_id_with(event, self.prints[index]))
            .clone()
    }

    /// Event `index` as a JSON value, for the fields a sink keys or names by.
    pub(super) fn fields(&mut self, index: usize) -> Result<&serde_json::Value, ProcessError> {
        let value = match &mut self.fields[index] {
            Some(v) => v,
            slot @ None => slot.insert(
                serde_json::from_slice(&self.full[index])
                    .map_err(|e| ProcessError::Outbox(anyhow::anyhow!("reading the event back: {e}")))?,
            ),
        };
        Ok(value)
    }
}
