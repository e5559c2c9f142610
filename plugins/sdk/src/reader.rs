//! `Reader`: consumes a vendor JSON object field by field. Whatever is not consumed becomes
//! the event's `vendor_extras` (credentials in URLs masked), every coercion is recorded in
//! `warnings` with the original value in `vendor_fields_raw` — so a normalizer is lossless by
//! construction.
//!
//! A reader made with [`Reader::lazy`] works on the raw text of the request body (see
//! [`crate::lazy`]): only what the mapping reads is parsed, and what it leaves is copied into
//! the extras as text. [`Reader::new`] reads an already parsed value the same way.

use crate::json::{self, Read};
use crate::lazy::Object;
use crate::time;
use crate::types::{Event, TzSource};
use serde_json::{Map, Value};

/// A vendor object being mapped.
pub struct Reader<'a> {
    rest: Object<'a>,
    raw: Map<String, Value>,
    warnings: Vec<String>,
}

impl<'a> Reader<'a> {
    /// Starts reading `item` (an object; anything else is kept whole under `extras.value`).
    pub fn new(item: Value) -> Reader<'a> {
        let map = match item {
            Value::Object(map) => map,
            other => [("value".to_string(), other)].into_iter().collect(),
        };
        Reader::lazy(Object::from_map(map))
    }

    /// Starts reading an object of a lazily parsed body (see [`crate::lazy::parse_body`]).
    pub fn lazy(object: Object<'a>) -> Reader<'a> {
        Reader {
            rest: object,
            raw: Map::new(),
            warnings: Vec::new(),
        }
    }

    /// The value at `path`, left in place.
    pub fn peek(&self, path: &str) -> Option<&Value> {
        self.rest.get(path).filter(|v| !v.is_null())
    }

    /// Whether `path` holds an object (without parsing it when it is still raw text).
    pub fn is_object(&self, path: &str) -> bool {
        self.rest.is_object(path)
    }

    /// The string at `path`, left in place.
    pub fn peek_str(&self, path: &str) -> Option<&str> {
        if let Some(text) = self.rest.plain_str(path) {
            return Some(text);
        }
        self.peek(path).and_then(Value::as_str)
    }

    /// A string at `path` still raw and without escapes, taken without parsing it: `Some`
    /// of the text (`None` inside for the empty string, which is "no value"), or `None` when
    /// the general path must read it.
    fn take_plain(&mut self, path: &str) -> Option<Option<String>> {
        let text = self.rest.plain_str(path)?;
        self.rest.take_node(path);
        Some((!text.is_empty()).then(|| text.to_string()))
    }

    /// Whether `path` holds a non-null value (read without parsing it where possible).
    pub fn has(&self, path: &str) -> bool {
        self.rest.has_value(path)
    }

    /// Removes and returns the value at `path`, a null included (a mapping configured by
    /// the operator decides itself what a null means).
    pub fn take_value(&mut self, path: &str) -> Option<Value> {
        self.rest.take(path)
    }

    /// Removes and returns the value at `path` (nulls count as absent and are removed too).
    pub fn take(&mut self, path: &str) -> Option<Value> {
        self.rest.take(path).filter(|v| !v.is_null())
    }

    /// Removes the object at `path` and returns it unparsed, for a reader of its own (a
    /// vendor envelope's `data`); `None`, and nothing removed, when it is not an object.
    pub fn take_object(&mut self, path: &str) -> Option<Object<'a>> {
        self.rest.take_object(path)
    }

    /// Removes the array at `path` and returns its elements, objects unparsed (a delivery's
    /// list of events); `None`, and nothing removed, when it is not an array.
    pub fn take_array(&mut self, path: &str) -> Option<Vec<crate::lazy::Element<'a>>> {
        self.rest.take_array(path)
    }

    /// Adds a warning.
    pub fn warn(&mut self, warning: impl Into<String>) {
        let w = warning.into();
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    fn note<T>(&mut self, name: &str, original: Value, read: Read<T>) -> T {
        if let Some(kind) = read.coerced {
            self.warn(format!("{kind}:{name}"));
            self.raw.insert(name.to_string(), original);
        }
        read.value
    }

    /// Takes an id-like string (numbers keep their exact digits). A value of the wrong type is
    /// put back and flagged.
    pub fn string(&mut self, path: &str, name: &str) -> Option<String> {
        if let Some(text) = self.take_plain(path) {
            return text;
        }
        self.typed(path, name, json::string)
    }

    /// Takes an id the vendor documents as a JSON number (camera or list ids): stringified
    /// exactly, without a coercion warning. Strings pass as they are.
    pub fn id(&mut self, path: &str) -> Option<String> {
        if let Some(text) = self.take_plain(path) {
            return text;
        }
        let value = self.take(path)?;
        match &value {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::String(_) => None,
            _ => {
                self.warn(format!("unmapped:{path}"));
                self.put_back(path, value);
                None
            }
        }
    }

    /// Takes a number (numeric strings accepted and flagged).
    pub fn number(&mut self, path: &str, name: &str) -> Option<f64> {
        self.typed(path, name, json::number)
    }

    /// Takes a boolean (`"true"`/`0`/`1` accepted and flagged).
    pub fn boolean(&mut self, path: &str, name: &str) -> Option<bool> {
        self.typed(path, name, json::boolean)
    }

    fn typed<T>(&mut self, path: &str, name: &str, read: fn(&Value) -> Option<Read<T>>) -> Option<T> {
        let value = self.take(path)?;
        match read(&value) {
            Some(r) => Some(self.note(name, value, r)),
            None => {
                // An empty string is "no value"; anything else unusable stays visible.
                if value != Value::String(String::new()) {
                    self.warn(format!("unmapped:{name}"));
                    self.put_back(path, value);
                }
                None
            }
        }
    }

    /// Puts a value back at `path` (into extras).
    pub fn put_back(&mut self, path: &str, value: Value) {
        self.rest.set(path, value);
    }

    /// Takes a date-time and stores it as `occurred_at` with its raw text and tz source.
    /// Zone-less text is read as `assume` says (`AssumedUtc` by default) and flagged.
    pub fn occurred_at(&mut self, path: &str, event: &mut Event, zoneless: TzSource) {
        let Some(value) = self.take(path) else { return };
        let parsed = match &value {
            Value::String(s) => time::parse(s).map_err(|e| format!("time_unparsed:{path}:{e}")),
            Value::Number(n) => n
                .as_f64()
                .and_then(time::from_unix)
                .map(|(p, ms)| {
                    if ms {
                        self.warn("unix_millis");
                    }
                    p
                })
                .ok_or_else(|| format!("time_unparsed:{path}")),
            _ => Err(format!("time_unparsed:{path}")),
        };
        match parsed {
            Ok(p) => {
                event.occurred_at = Some(p.to_rfc3339());
                event.occurred_at_raw = json::raw_text(&value);
                event.occurred_at_tz_source = if p.explicit_zone {
                    TzSource::Explicit
                } else {
                    self.warn("tz_assumed_utc");
                    zoneless
                };
            }
            Err(w) => {
                self.warn(w);
                self.put_back(path, value);
            }
        }
    }

    /// What is left unread, as it is (an envelope around the events a reader took out).
    pub fn into_rest(self) -> Object<'a> {
        self.rest
    }

    /// Ends reading: leftovers become `extras` (URL credentials masked), coercions
    /// `fields_raw`, warnings are appended to the event's.
    pub fn finish(mut self, event: &mut Event) {
        let mut extras = String::new();
        self.rest.write(&mut extras);
        event.extras = extras;
        event.fields_raw = Value::Object(self.raw).to_string();
        for w in self.warnings {
            if !event.warnings.contains(&w) {
                event.warnings.push(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::blank;
    use crate::types::{Action, Category};
    use serde_json::json;

    #[test]
    fn leftovers_become_extras_and_coercions_are_recorded() {
        let mut r = Reader::new(
            json!({"id": 42, "t": "2024-01-01 00:00:00", "cam": {"url": "rtsp://a:b@h/x", "id": 3}, "s": "0.5", "bad": {"x": 1}}),
        );
        let mut e = blank("v", Category::Unknown, Action::Unknown);
        assert_eq!(r.string("id", "vendor_event_id").as_deref(), Some("42"));
        assert_eq!(r.id("cam.id").as_deref(), Some("3"));
        assert_eq!(r.number("s", "match.score"), Some(0.5));
        assert_eq!(r.number("bad", "match.quality"), None);
        r.occurred_at("t", &mut e, TzSource::AssumedUtc);
        r.finish(&mut e);
        assert_eq!(e.occurred_at.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(e.occurred_at_tz_source, TzSource::AssumedUtc);
        let extras: Value = serde_json::from_str(&e.extras).unwrap();
        assert_eq!(extras, json!({"cam": {"url": "rtsp://***@h/x"}, "bad": {"x": 1}}));
        let raw: Value = serde_json::from_str(&e.fields_raw).unwrap();
        assert_eq!(raw, json!({"vendor_event_id": 42, "match.score": "0.5"}));
        for w in [
            "string_from_number:vendor_event_id",
            "number_from_string:match.score",
            "unmapped:match.quality",
            "tz_assumed_utc",
        ] {
            assert!(e.warnings.contains(&w.to_string()), "{w} in {:?}", e.warnings);
        }
    }
}
