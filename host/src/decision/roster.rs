//! The operator's roster (or watchlist): a CSV or JSON file named in router.toml
//! (`[plugins.<id>] roster = { path = "roster.csv", key = "person_id" }`), read whole when the
//! pipeline is built — so an edit applies with the next reload, atomically with the config,
//! and a broken file is refused like a broken config while the running roster stays — and
//! offered to its decider read-only through `site.roster-lookup`.
//!
//! CSV: a header row, then one entry per row; every column travels as a string. JSON: an array
//! of objects, or an object of key → object. Either way the `key` column/member holds each
//! entry's unique, non-empty key (numbers are taken as their decimal text).

use anyhow::{Context, bail};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest roster file read: far beyond any site's staff list, small enough to hold in memory.
pub const MAX_ROSTER_BYTES: u64 = 64 << 20;

/// A loaded roster: each entry's JSON text by key.
#[derive(Debug, Default)]
pub struct Roster {
    path: PathBuf,
    /// Hex sha256 of the file as read (a reload compares it to tell an edit).
    sha256: String,
    entries: HashMap<String, Box<str>>,
}

impl Roster {
    /// Reads `path` (`.csv` or `.json`), indexing entries by their `key` column.
    pub fn load(path: &Path, key: &str) -> anyhow::Result<Roster> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("reading roster {}", path.display()))?
            .len();
        if size > MAX_ROSTER_BYTES {
            bail!(
                "roster {} is {size} bytes, over the {MAX_ROSTER_BYTES}-byte limit",
                path.display()
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading roster {}", path.display()))?;
        let sha256 = crate::digest::sha256(&bytes);
        // Spreadsheet exports start with a byte-order mark, which would become part of the
        // first column's name.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let entries = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase) {
            Some(ext) if ext == "csv" => from_csv(bytes, key),
            Some(ext) if ext == "json" => from_json(bytes, key),
            _ => bail!("the file name must end in .csv or .json"),
        }
        .with_context(|| format!("roster {}", path.display()))?;
        Ok(Roster {
            path: path.to_path_buf(),
            sha256,
            entries,
        })
    }

    /// The entry with this key, as a JSON object's text.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|e| &**e)
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hex sha256 of the file it was read from.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn insert(entries: &mut HashMap<String, Box<str>>, key: String, entry: &Value, at: &str) -> anyhow::Result<()> {
    if key.trim().is_empty() {
        bail!("{at}: the key is empty");
    }
    if entries.contains_key(&key) {
        bail!("{at}: key `{key}` appears twice");
    }
    entries.insert(key, entry.to_string().into_boxed_str());
    Ok(())
}

fn from_csv(bytes: &[u8], key: &str) -> anyhow::Result<HashMap<String, Box<str>>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let headers = reader.headers().context("reading the header row")?.clone();
    let Some(key_index) = headers.iter().position(|h| h == key) else {
        bail!(
            "no `{key}` column (the header row has: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let mut entries = HashMap::new();
    for record in reader.records() {
        let record = record.context("reading a row")?;
        let line = record.position().map_or(0, |p| p.line());
        let entry: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
            .collect();
        let value = record.get(key_index).unwrap_or_default().to_string();
        insert(&mut entries, value, &Value::Object(entry), &format!("line {line}"))?;
    }
    Ok(entries)
}

fn key_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn from_json(bytes: &[u8], key: &str) -> anyhow::Result<HashMap<String, Box<str>>> {
    let root: Value = serde_json::from_slice(bytes).context("not valid JSON")?;
    let mut entries = HashMap::new();
    match root {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let at = format!("entry {index}");
                if !item.is_object() {
                    bail!("{at} is not a JSON object");
                }
                let Some(k) = key_text(item.get(key)) else {
                    bail!("{at} has no `{key}` string or number");
                };
                insert(&mut entries, k, item, &at)?;
            }
        }
        Value::Object(map) => {
            for (k, item) in &map {
                if !item.is_object() {
                    bail!("entry `{k}` is not a JSON object");
                }
                insert(&mut entries, k.clone(), item, &format!("entry `{k}`"))?;
            }
        }
        _ => bail!("expected an array of entries or an object of key → entry"),
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn csv_rows_become_objects_keyed_by_the_key_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "roster.csv",
            b"\xEF\xBB\xBFperson_id,name,groups\n p-1 ,\"Doe, Jane\",staff;night\np-2,Bob,\n",
        );
        let roster = Roster::load(&path, "person_id").unwrap();
        assert_eq!(roster.len(), 2);
        let entry: Value = serde_json::from_str(roster.get("p-1").unwrap()).unwrap();
        assert_eq!(entry["name"], "Doe, Jane");
        assert_eq!(entry["groups"], "staff;night");
        assert!(roster.get("p-3").is_none());
    }

    #[test]
    fn json_arrays_and_maps_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let array = write(dir.path(), "a.json", br#"[{"card": 1234, "name": "A"}]"#);
        assert!(Roster::load(&array, "card").unwrap().get("1234").is_some());
        let map = write(dir.path(), "m.json", br#"{"p-1": {"groups": ["staff"]}}"#);
        let roster = Roster::load(&map, "ignored").unwrap();
        assert_eq!(roster.get("p-1").unwrap(), r#"{"groups":["staff"]}"#);
    }

    #[test]
    fn bad_rosters_are_refused_with_the_place_named() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], &str); 6] = [
            (
                "a.csv",
                b"id,name\n1,a\n",
                "no `person_id` column (the header row has: id, name)",
            ),
            ("b.csv", b"person_id,name\n1,a\n1,b\n", "line 3: key `1` appears twice"),
            ("c.csv", b"person_id,name\n,a\n", "line 2: the key is empty"),
            ("d.csv", b"person_id,name\n1,a,extra\n", "reading a row"),
            ("e.json", br#"[{"name": "x"}]"#, "entry 0 has no `person_id`"),
            ("f.txt", b"", "must end in .csv or .json"),
        ];
        for (name, text, want) in cases {
            let path = write(dir.path(), name, text);
            let err = format!("{:#}", Roster::load(&path, "person_id").unwrap_err());
            assert!(err.contains(want), "{name}: {err}");
        }
        let missing = format!("{:#}", Roster::load(&dir.path().join("gone.csv"), "k").unwrap_err());
        assert!(missing.contains("gone.csv"), "{missing}");
    }
}
