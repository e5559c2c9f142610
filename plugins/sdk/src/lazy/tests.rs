//! The lazy reader against the tree reader's semantics.
use super::*;
use serde_json::json;

fn object(text: &str) -> Object<'_> {
    match parse_body(text.as_bytes()).unwrap().unwrap() {
        Body::Object(o) => o,
        _ => panic!("not an object"),
    }
}

fn written(o: &mut Object<'_>) -> String {
    let mut out = String::new();
    o.write(&mut out);
    out
}

#[test]
fn untouched_members_are_copied_compact_in_order() {
    let text = "{ \"b\" : [1, 2.50, {\"x\": \"a b\"}],\n  \"a\": 1e3, \"s\": \"q\\\"uote\" }";
    let mut o = object(text);
    assert_eq!(written(&mut o), r#"{"b":[1,2.50,{"x":"a b"}],"a":1e3,"s":"q\"uote"}"#);
    let back: Value = serde_json::from_str(&written(&mut o)).unwrap();
    assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
}

#[test]
fn reads_take_and_put_back_nested_members() {
    let mut o = object(r#"{"cam": {"id": 5, "name": "Gate", "url": "rtsp://u:p@h/s"}, "n": null, "k": 1}"#);
    assert!(o.is_object("cam"));
    assert_eq!(o.get("cam.name"), Some(&json!("Gate")));
    assert_eq!(o.take("cam.id"), Some(json!(5)));
    assert_eq!(o.take("cam.name"), Some(json!("Gate")));
    assert_eq!(o.take("n"), Some(Value::Null));
    assert_eq!(o.take("missing.x"), None);
    assert_eq!(written(&mut o), r#"{"cam":{"url":"rtsp://***@h/s"},"k":1}"#);
    // Taking the last member of an object removes the object.
    assert_eq!(o.take("cam.url"), Some(json!("rtsp://u:p@h/s")));
    o.set("k", json!("back"));
    o.set("new.deep", json!(true));
    assert_eq!(written(&mut o), r#"{"k":"back","new":{"deep":true}}"#);
    // What a read returns follows the changes.
    assert_eq!(o.get("new"), Some(&json!({"deep": true})));
}

#[test]
fn an_inner_object_is_taken_still_lazy() {
    let mut o = object(r#"{"type": 0, "data": {"a": {"b": 1}, "c": "d"}, "x": [1]}"#);
    assert!(o.take_object("x").is_none(), "not an object");
    let mut data = o.take_object("data").expect("object");
    assert_eq!(data.take("a.b"), Some(json!(1)));
    assert_eq!(written(&mut data), r#"{"c":"d"}"#);
    assert_eq!(written(&mut o), r#"{"type":0,"x":[1]}"#);
    let mut o = object(r#"{"env": {"data": {"k": 1}}}"#);
    assert_eq!(written(&mut o.take_object("env.data").expect("nested")), r#"{"k":1}"#);
    assert_eq!(written(&mut o), "{}");
}

#[test]
fn an_inner_array_is_split_into_lazy_objects() {
    let mut o =
        object(r#"{"events": [ {"a": 1, "u": "http://x:y@h"}, 2, {"b": {"c": [3, 4]}} ], "e": {"in": [{"k": 1}]}}"#);
    let mut items = o.take_array("events").expect("array");
    let [Element::Object(first), Element::Other, Element::Object(third)] = items.as_mut_slice() else {
        panic!("shapes")
    };
    assert_eq!(first.get("a"), Some(&json!(1)));
    assert_eq!(written(first), r#"{"a":1,"u":"http://***@h"}"#);
    assert_eq!(written(third), r#"{"b":{"c":[3,4]}}"#);
    assert!(o.take_array("e").is_none(), "not an array");
    assert_eq!(o.take_array("e.in").map(|v| v.len()), Some(1));
    assert_eq!(written(&mut o), "{}");
}

#[test]
fn escaped_slashes_do_not_hide_credentials() {
    let mut o = object(r#"{"u": "rtsp:\/\/admin:pw@10.0.0.5\/live", "plain": "a\\b"}"#);
    assert_eq!(written(&mut o), r#"{"u":"rtsp://***@10.0.0.5/live","plain":"a\\b"}"#);
}

#[test]
fn a_repeated_key_keeps_its_last_value() {
    let mut o = object(r#"{"a": 1, "b": 2, "a": 3}"#);
    assert_eq!(o.get("a"), Some(&json!(3)));
    assert_eq!(written(&mut o), r#"{"b":2,"a":3}"#);
    // The same inside an object opened after the scan.
    let mut o = object(r#"{"c": {"x": 1, "y": 2, "x": {"z": 3}}}"#);
    assert_eq!(o.take("c.y"), Some(json!(2)));
    assert_eq!(o.get("c.x.z"), Some(&json!(3)));
    assert_eq!(written(&mut o), r#"{"c":{"x":{"z":3}}}"#);
}

#[test]
fn many_members_and_repeats_stay_linear() {
    let text = format!(
        "{{{}}}",
        (0..200_000)
            .map(|i| format!("\"k{}\":{i}", i % 100_000))
            .collect::<Vec<_>>()
            .join(",")
    );
    let o = object(&text);
    assert_eq!(o.members.len(), 100_000);
    assert_eq!(o.get("k7"), Some(&json!(100_007)));
}

#[test]
fn bodies_split_into_objects_and_report_errors() {
    let Some(Body::Array(items)) = parse_body(b"\xEF\xBB\xBF[{\"a\": 1}, 2, [3]]").unwrap() else {
        panic!("array")
    };
    assert!(matches!(
        items.as_slice(),
        [Element::Object(_), Element::Other, Element::Other]
    ));
    assert!(parse_body(b"  \n").unwrap().is_none());
    assert!(matches!(parse_body(b"\"x\"").unwrap(), Some(Body::Scalar)));
    let Err(PluginError::InvalidInput(message)) = parse_body(b"[{\"a\": }]") else {
        panic!("invalid JSON accepted")
    };
    assert!(
        message.starts_with("body is not valid JSON: expected value at line 1"),
        "{message}"
    );
    // Mistakes inside a skipped value are worded as a full parse words them.
    let Err(PluginError::InvalidInput(message)) = parse_body(b"{\"a\": {\"b\": 1,\n}}") else {
        panic!("trailing comma accepted")
    };
    assert_eq!(message, "body is not valid JSON: trailing comma at line 2 column 1");
}

#[test]
fn plain_strings_are_read_in_place() {
    let mut o = object(r#"{"a": "x", "b": "with \"escape\"", "c": {"d": "in"}, "n": 5, "e": ""}"#);
    assert_eq!(o.plain_str("a"), Some("x"));
    assert_eq!(o.plain_str("b"), None, "escaped: the general path decodes it");
    assert_eq!(o.plain_str("c.d"), Some("in"));
    assert_eq!(o.plain_str("n"), None);
    assert_eq!(o.plain_str("e"), Some(""));
    o.take_node("c.d");
    o.take_node("a");
    assert_eq!(written(&mut o), r#"{"b":"with \"escape\"","n":5,"e":""}"#);
}

#[test]
fn has_value_agrees_with_a_read_without_parsing() {
    let text = r#"{"n": null, "s": "x", "o": {"a": null, "b": {"c": 0}}, "l": [{"k": 1}], "e": {}}"#;
    let mut o = object(text);
    let tree = Object::from_map(serde_json::from_str(text).unwrap());
    for path in [
        "n", "s", "o", "o.a", "o.b", "o.b.c", "o.z", "l", "l.0.k", "e", "missing", "s.x",
    ] {
        let read = o.get(path).is_some_and(|v| !v.is_null());
        assert_eq!(o.has_value(path), read, "{path}");
        assert_eq!(tree.has_value(path), read, "{path} (tree)");
    }
    // After a change below it, an object is still seen for what it holds.
    assert_eq!(o.take("o.b.c"), Some(json!(0)));
    assert!(o.has_value("o") && !o.has_value("o.b") && !o.has_value("o.a"));
    o.set("n", json!(1));
    assert!(o.has_value("n"));
}
