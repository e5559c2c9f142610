use super::*;
use serde_json::json;

fn schema(toml_text: &str) -> Schema {
    #[derive(Deserialize)]
    struct Manifest {
        settings: BTreeMap<String, Setting>,
    }
    let m: Manifest = toml::from_str(toml_text).expect("schema TOML");
    let schema = Schema { settings: m.settings };
    schema.validate().expect("a valid schema");
    schema
}

fn filter_schema() -> Schema {
    schema(
        r#"
        [settings.min_score]
        type = "number"
        default = 0.8
        min = 0
        max = 1
        doc = "Recognitions below it are dropped."

        [settings.ignore_cameras]
        type = "list<string>"
        default = []

        [settings.mode]
        type = "string"
        values = ["strict", "lenient"]
        default = "strict"

        [settings.vendor]
        type = "string"
        required = true

        [settings.retries]
        type = "integer"
        default = 3
        "#,
    )
}

fn messages(result: Result<Value, Vec<Problem>>) -> Vec<String> {
    result.expect_err("refused").into_iter().map(|p| p.message).collect()
}

#[test]
fn defaults_fill_in_and_good_values_pass() {
    let out = filter_schema()
        .apply(&json!({ "vendor": "acme", "min_score": 1 }))
        .expect("accepted");
    assert_eq!(
        out,
        json!({ "vendor": "acme", "min_score": 1, "ignore_cameras": [], "mode": "strict", "retries": 3 })
    );
}

#[test]
fn a_wrong_type_names_the_key_and_what_was_found() {
    let problems = filter_schema()
        .apply(&json!({ "vendor": "acme", "ignore_cameras": "print" }))
        .expect_err("refused");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key.as_deref(), Some("ignore_cameras"));
    assert_eq!(
        problems[0].message,
        "setting `ignore_cameras` must be a list of strings, found a string (\"print\")"
    );
    assert_eq!(
        messages(filter_schema().apply(&json!({ "vendor": "acme", "ignore_cameras": ["a", 7] }))),
        ["setting `ignore_cameras[1]` must be a string, found an integer (7)"]
    );
    assert_eq!(
        messages(filter_schema().apply(&json!({ "vendor": "acme", "retries": 2.5 }))),
        ["setting `retries` must be an integer, found a float (2.5)"]
    );
}

#[test]
fn bounds_values_required_and_unknown_keys_are_refused_together() {
    let found = messages(filter_schema().apply(&json!({ "min_score": 1.5, "mode": "loose", "min_scor": 1 })));
    assert_eq!(
        found,
        [
            "unknown setting `min_scor` (did you mean `min_score`?)",
            "setting `min_score` must be within 0..1, found 1.5",
            "setting `mode` must be one of \"strict\", \"lenient\", found \"loose\"",
            "setting `vendor` is required (string)",
        ]
    );
    let far = messages(filter_schema().apply(&json!({ "vendor": "v", "colour": "blue" })));
    assert_eq!(
        far,
        [
            "unknown setting `colour`; this plugin's settings are `ignore_cameras`, `min_score`, `mode`, `retries`, `vendor`"
        ]
    );
}

#[test]
fn a_schema_that_contradicts_itself_is_refused() {
    for (bad, why) in [
        ("[settings.a]\ntype = \"list<str>\"", "unknown settings type"),
        (
            "[settings.a]\ntype = \"number\"\ndefault = \"x\"",
            "default does not fit",
        ),
        (
            "[settings.a]\ntype = \"boolean\"\nvalues = [\"x\"]",
            "`values` applies to string",
        ),
        ("[settings.a]\ntype = \"string\"\nmin = 1", "`min`/`max` apply"),
        ("[settings.a]\ntype = \"number\"\nmin = 2\nmax = 1", "above max"),
        (
            "[settings.a]\ntype = \"number\"\nrequired = true\ndefault = 1",
            "required setting has no default",
        ),
        ("[settings.a]\ntype = \"number\"\ncolour = 1", "unknown field"),
    ] {
        #[derive(Deserialize)]
        struct Manifest {
            settings: BTreeMap<String, Setting>,
        }
        let err = match toml::from_str::<Manifest>(bad) {
            Err(e) => e.to_string(),
            Ok(m) => Schema { settings: m.settings }.validate().expect_err(bad).to_string(),
        };
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn the_section_travels_inside_the_component_and_is_replaced_on_rebuild() {
    // The smallest component: the preamble alone, then a custom section of someone else's.
    let mut wasm = b"\0asm\x0d\x00\x01\x00".to_vec();
    wasm.extend_from_slice(&[0, 4, 3, b'a', b'b', b'c']);
    assert_eq!(read(&wasm).expect("read"), None);
    let one = embed(&wasm, &filter_schema()).expect("embed");
    assert_eq!(read(&one).expect("read"), Some(filter_schema()));
    assert!(one.starts_with(&wasm), "other sections are kept");
    let smaller = schema("[settings.only]\ntype = \"boolean\"");
    let two = embed(&one, &smaller).expect("embed again");
    assert_eq!(read(&two).expect("read"), Some(smaller));
    assert_eq!(embed(&two, &Schema::default()).expect("strip"), wasm);
    assert!(
        read(b"\0asm\x0d\x00\x01\x00\x00\xff").is_err(),
        "a broken size is an error"
    );
    assert!(read(b"{}").is_err());
}

#[test]
fn a_section_of_a_later_format_says_so() {
    let err = Schema::from_section(br#"{"format": 2, "settings": {}}"#).expect_err("newer");
    assert!(err.to_string().contains("format 2"), "{err}");
}

#[test]
fn the_summary_reads_like_the_declaration() {
    let s = filter_schema();
    assert_eq!(
        s.settings["min_score"].summary(),
        "number, 0..1, default 0.8 — Recognitions below it are dropped."
    );
    assert_eq!(
        s.settings["mode"].summary(),
        "string, one of \"strict\" | \"lenient\", default \"strict\""
    );
    assert!(s.to_string().contains("  vendor          string, required"), "{s}");
}
