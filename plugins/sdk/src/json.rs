//! Dotted JSON paths (`camera.id`, `candidates.0.profile.id`) and lenient scalar reads that
//! record every coercion, because vendors send numbers as strings and ids as numbers.

use serde_json::{Map, Value};

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('.').filter(|s| !s.is_empty())
}

fn child<'a>(value: &'a Value, seg: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

/// The value at `path`; the empty path is the value itself.
pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path).try_fold(value, child)
}

/// Removes and returns the value at `path` (object members only), then removes parent objects
/// the removal left empty, so `extras` keeps exactly what no mapping consumed.
pub fn take(value: &mut Value, path: &str) -> Option<Value> {
    let segs: Vec<&str> = segments(path).collect();
    let (last, parents) = segs.split_last()?;
    take_in(value, parents, last)
}

fn take_in(value: &mut Value, parents: &[&str], last: &str) -> Option<Value> {
    let Value::Object(map) = value else { return None };
    match parents.split_first() {
        None => map.remove(last),
        Some((first, rest)) => {
            let inner = map.get_mut(*first)?;
            let taken = take_in(inner, rest, last);
            if taken.is_some() && matches!(inner, Value::Object(m) if m.is_empty()) {
                map.remove(*first);
            }
            taken
        }
    }
}

/// Sets `path` inside `root` (creating objects on the way).
pub fn set(root: &mut Map<String, Value>, path: &str, new: Value) {
    let segs: Vec<&str> = segments(path).collect();
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut map = root;
    for seg in parents {
        let entry = map.entry(seg.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(inner) = entry else { return };
        map = inner;
    }
    map.insert(last.to_string(), new);
}

/// Parses a request body as JSON: a UTF-8 byte-order mark (common from Windows senders) is
/// skipped, an empty or all-whitespace body is `None` (each vendor words that error itself),
/// and invalid JSON is `invalid-input` with the parser's message and position.
pub fn parse_body(body: &[u8]) -> Result<Option<Value>, crate::types::PluginError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| crate::types::PluginError::InvalidInput(format!("body is not valid JSON: {e}")))
}

/// A scalar read that may have needed a coercion.
#[derive(Debug, Clone, PartialEq)]
pub struct Read<T> {
    /// The value.
    pub value: T,
    /// `Some(kind)` when the JSON type differed from the wanted one, e.g. `number_from_string`.
    pub coerced: Option<&'static str>,
}

fn exact<T>(value: T) -> Option<Read<T>> {
    Some(Read { value, coerced: None })
}

fn coerced<T>(value: T, kind: &'static str) -> Option<Read<T>> {
    Some(Read {
        value,
        coerced: Some(kind),
    })
}

/// Reads an id-like string: strings as they are (empty → none), integers and floats as their
/// exact JSON text (so a uint64 beyond 2^53 survives), booleans as `true`/`false`.
pub fn string(value: &Value) -> Option<Read<String>> {
    match value {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => exact(s.clone()),
        Value::Number(n) => coerced(n.to_string(), "string_from_number"),
        Value::Bool(b) => coerced(b.to_string(), "string_from_bool"),
        _ => None,
    }
}

/// Reads a number; numeric strings are accepted and flagged.
pub fn number(value: &Value) -> Option<Read<f64>> {
    match value {
        Value::Number(n) => n.as_f64().and_then(exact),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(|f| coerced(f, "number_from_string")),
        _ => None,
    }
}

/// Reads a boolean; `"true"`/`"false"`/`"1"`/`"0"` strings and 0/1 numbers are accepted and flagged.
pub fn boolean(value: &Value) -> Option<Read<bool>> {
    match value {
        Value::Bool(b) => exact(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => coerced(true, "bool_from_string"),
            "false" | "0" | "no" => coerced(false, "bool_from_string"),
            _ => None,
        },
        Value::Number(n) => match n.as_i64() {
            Some(1) => coerced(true, "bool_from_number"),
            Some(0) => coerced(false, "bool_from_number"),
            _ => None,
        },
        _ => None,
    }
}

/// The raw text of a scalar for `*-raw` fields: strings as they are, other scalars as JSON.
pub fn raw_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_walks_objects_and_arrays() {
        let v = json!({"a": {"b": [{"c": 1}, {"c": 2}]}});
        assert_eq!(get(&v, "a.b.1.c"), Some(&json!(2)));
        assert_eq!(get(&v, ""), Some(&v));
        assert_eq!(get(&v, "a.x"), None);
        assert_eq!(get(&v, "a.b.9"), None);
    }

    #[test]
    fn take_removes_and_prunes_empty_parents() {
        let mut v = json!({"person": {"id": "7"}, "keep": 1});
        assert_eq!(take(&mut v, "person.id"), Some(json!("7")));
        assert_eq!(v, json!({"keep": 1}));
        assert_eq!(take(&mut v, "missing.path"), None);
    }

    #[test]
    fn set_creates_parents() {
        let mut m = Map::new();
        set(&mut m, "camera.url", json!("x"));
        assert_eq!(Value::Object(m), json!({"camera": {"url": "x"}}));
    }

    #[test]
    fn big_ids_survive_as_text() {
        let v: Value = serde_json::from_str(r#"{"id": 4362414227458589462}"#).unwrap();
        let read = string(&v["id"]).unwrap();
        assert_eq!(read.value, "4362414227458589462");
        assert_eq!(read.coerced, Some("string_from_number"));
    }

    #[test]
    fn lenient_scalars_flag_coercions() {
        assert_eq!(
            number(&json!("36.9")).unwrap(),
            Read {
                value: 36.9,
                coerced: Some("number_from_string")
            }
        );
        assert_eq!(number(&json!(1)).unwrap().coerced, None);
        assert!(!boolean(&json!("false")).unwrap().value);
        assert_eq!(string(&json!("")), None);
        assert_eq!(number(&json!("abc")), None);
    }
}
