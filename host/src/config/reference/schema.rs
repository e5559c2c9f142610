//! The JSON Schema (draft-07) of router.toml, for editors (taplo / Even Better TOML complete
//! keys and flag typos as you type) and for CI (every shipped config must validate).

use super::{Dflt, Key, ROOT, Reload, Table, Ty};
use serde_json::{Map, Value, json};

/// The schema of the whole file.
pub fn schema() -> Value {
    let mut root = table(&ROOT);
    let object = root.as_object_mut().expect("a table is an object");
    object.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
    object.insert(
        "$id".into(),
        json!("https://github.com/switchyard-router/switchyard/blob/main/docs/router.schema.json"),
    );
    object.insert("title".into(), json!("switchyard router.toml"));
    root
}

fn table(t: &Table) -> Value {
    let mut properties = Map::new();
    for key in t.keys {
        properties.insert(key.name.to_string(), key_schema(key));
    }
    let required: Vec<&str> = t.keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let mut out = json!({
        "type": "object",
        "description": t.about,
        "additionalProperties": false,
        "properties": properties,
    });
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    out
}

fn key_schema(key: &Key) -> Value {
    let mut out = ty(&key.ty);
    let text = description(key);
    let object = out.as_object_mut().expect("every type is an object schema");
    object.insert("description".into(), json!(text));
    object.insert("markdownDescription".into(), json!(text));
    if let Some(default) = default_value(&key.default) {
        object.insert("default".into(), default);
    }
    out
}

/// The description editors show: what it is for, its default, whether it reloads.
pub(super) fn description(key: &Key) -> String {
    let mut text = key.about.to_string();
    if let Some(d) = super::markdown::default_text(&key.default) {
        text.push_str(&format!(" Default: {d}."));
    }
    if key.reload == Reload::Restart {
        text.push_str(" A running router keeps its value: restart to change it.");
    }
    text
}

fn default_value(d: &Dflt) -> Option<Value> {
    match *d {
        Dflt::Int(i) => Some(json!(i)),
        Dflt::Float(f) => Some(json!(f)),
        Dflt::Bool(b) => Some(json!(b)),
        Dflt::Str(s) => Some(json!(s)),
        Dflt::None | Dflt::Said(_) => None,
    }
}

fn ty(t: &Ty) -> Value {
    match *t {
        Ty::Int(i) => integer(i.min, i.max),
        Ty::IntFrom { min, max } => integer(min, max),
        Ty::Float { min, max } => json!({ "type": "number", "minimum": min, "maximum": max }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Str => json!({ "type": "string" }),
        Ty::Enum(values) => json!({ "type": "string", "enum": values }),
        Ty::EnumFn(values) => json!({ "type": "string", "enum": values() }),
        Ty::List(inner) => json!({ "type": "array", "items": ty(inner) }),
        Ty::Table(t) => table(t),
        Ty::Map(inner) => json!({ "type": "object", "additionalProperties": ty(inner) }),
        Ty::Array(t) => json!({ "type": "array", "items": table(t) }),
        Ty::Tagged(variants) => tagged(variants),
        Ty::ListOrTable(t) => json!({ "type": "array", "items": { "anyOf": [{ "type": "string" }, table(t)] } }),
        Ty::AnyTable => json!({ "type": "object" }),
    }
}

fn integer(min: i64, max: i64) -> Value {
    let mut out = json!({ "type": "integer", "minimum": min });
    if max != i64::MAX {
        out["maximum"] = json!(max);
    }
    out
}

/// One of several tables told apart by `type`: `if type = X then X's table`, so a validator
/// names the unknown key in the matching shape (a `oneOf` would only say "none matched").
fn tagged(variants: &[(&str, &Table)]) -> Value {
    let tags: Vec<&str> = variants.iter().map(|(tag, _)| *tag).collect();
    let branches: Vec<Value> = variants
        .iter()
        .map(|(tag, t)| {
            json!({
                "if": { "properties": { "type": { "const": tag } }, "required": ["type"] },
                "then": table(t),
            })
        })
        .collect();
    json!({
        "type": "object",
        "required": ["type"],
        "properties": { "type": { "type": "string", "enum": tags } },
        "allOf": branches,
    })
}
