//! [`JsonObject`]: the vendor parts of an event (`vendor_extras`, `vendor_fields_raw`) as
//! validated JSON text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON object kept as the text a plugin returned (validated). The host only passes
/// `vendor_extras` and `vendor_fields_raw` on — to the next plugin as text, to sinks inside
/// the event's JSON — so parsing them into a tree and printing it again at every stage was
/// pure cost (a tenth of the router's CPU at 100-event FindFace batches).
#[derive(Clone)]
pub struct JsonObject(Box<serde_json::value::RawValue>);

/// Equal as JSON, however the text is spaced or ordered.
impl PartialEq for JsonObject {
    fn eq(&self, other: &JsonObject) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

impl JsonObject {
    /// Checks that `text` is one JSON object (blank text is `{}`).
    pub fn parse(text: &str) -> Result<JsonObject, String> {
        if text.trim().is_empty() {
            return Ok(JsonObject::empty());
        }
        match serde_json::from_str::<Box<serde_json::value::RawValue>>(text) {
            Ok(raw) if raw.get().starts_with('{') => Ok(JsonObject(raw)),
            Ok(_) => Err("must be a JSON object".to_string()),
            Err(e) => Err(format!("is not valid JSON: {e}")),
        }
    }

    /// [`JsonObject::parse`] taking the text: a plugin's `extras` (lifted into a string of
    /// exactly its length) becomes the object without a second allocation and copy.
    pub fn parse_owned(text: String) -> Result<JsonObject, String> {
        if text.trim().is_empty() {
            return Ok(JsonObject::empty());
        }
        match serde_json::value::RawValue::from_string(text) {
            Ok(raw) if raw.get().starts_with('{') => Ok(JsonObject(raw)),
            Ok(_) => Err("must be a JSON object".to_string()),
            Err(e) => Err(format!("is not valid JSON: {e}")),
        }
    }

    /// `{}`.
    pub fn empty() -> JsonObject {
        JsonObject(serde_json::value::RawValue::from_string("{}".to_string()).expect("`{}` is JSON"))
    }

    /// From a JSON value, which must be an object.
    pub fn from_value(value: &Value) -> Result<JsonObject, String> {
        if !value.is_object() {
            return Err("must be a JSON object".to_string());
        }
        serde_json::value::to_raw_value(value)
            .map(JsonObject)
            .map_err(|e| e.to_string())
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Parsed into a value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or_else(|_| Value::Object(Default::default()))
    }
}

impl std::fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JsonObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    /// Through a value, so events read back from any serde source (a stored payload, a
    /// `serde_json::Value`) work alike.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<JsonObject, D::Error> {
        let value = Value::deserialize(deserializer)?;
        JsonObject::from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_pass_through_as_text() {
        let extras = JsonObject::parse(r#"{"camera":{"url":"rtsp://***@cam"},"n":[1,2]}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&serde_json::json!({ "x": 1 })).unwrap(),
            r#"{"x":1}"#
        );
        #[derive(Serialize, Deserialize)]
        struct Holder {
            extras: JsonObject,
        }
        let text = serde_json::to_string(&Holder { extras: extras.clone() }).unwrap();
        assert_eq!(text, r#"{"extras":{"camera":{"url":"rtsp://***@cam"},"n":[1,2]}}"#);
        let back: Holder = serde_json::from_str(&text).unwrap();
        assert_eq!(back.extras.to_value(), extras.to_value());
        assert_eq!(JsonObject::parse("  ").unwrap().as_str(), "{}");
        for text in [r#" {"a": [1, {"b": null}]} "#, "", "[1]", "{", "{} x", "\"s\""] {
            assert_eq!(
                JsonObject::parse_owned(text.to_string()),
                JsonObject::parse(text),
                "{text}"
            );
        }
        assert_eq!(JsonObject::parse("[1]").unwrap_err(), "must be a JSON object");
        assert!(JsonObject::parse("{").unwrap_err().starts_with("is not valid JSON"));
        let from_value: Result<Holder, _> = serde_json::from_value(serde_json::json!({ "extras": 5 }));
        assert!(from_value.is_err(), "a non-object is refused");
    }
}
