//! JSON read without building a tree: a request body split into objects whose members stay
//! raw text (slices of the body) until a mapping reads them.
//!
//! Why: a normalizer reads a dozen members of a vendor event and keeps the rest as
//! `vendor_extras`. Parsing the whole event into a `serde_json::Value` tree and printing the
//! untouched part again was half of the guest's time (every string, number and map node
//! allocated, then freed). Here the body is scanned once (serde_json validates it and reports
//! errors exactly as before); a member is parsed only when it is read, an object is split into
//! its own raw members only when something inside it is taken or put back, and whatever no
//! mapping touched is copied into the extras as text: whitespace dropped, URL credentials
//! masked, member order and number spelling as the sender wrote them.

use crate::types::PluginError;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::OnceCell;

mod de;
mod find;
mod text;

use text::{copy_compact, push_key, skip_ws, split_array, string_end, value_end};

/// A request body read lazily (see [`parse_body`]).
pub enum Body<'a> {
    /// A JSON object.
    Object(Object<'a>),
    /// A JSON array: its objects split into members, anything else only noted.
    Array(Vec<Element<'a>>),
    /// A string, number, boolean or null.
    Scalar,
}

/// An element of a top-level array.
pub enum Element<'a> {
    /// A JSON object.
    Object(Object<'a>),
    /// Anything but an object.
    Other,
}

/// A JSON object's members in the sender's order (a repeated key keeps its last value, as a
/// parse into a map would), each value raw text until read.
pub struct Object<'a> {
    members: Vec<Member<'a>>,
}

struct Member<'a> {
    key: Cow<'a, str>,
    /// [`tag`] of `key`: lookups compare this word first.
    tag: u64,
    node: Node<'a>,
    /// Read out of the object (or never there: a put-back placeholder).
    taken: bool,
}

enum Node<'a> {
    /// Untouched text; `parsed` caches a read of the whole value, `opened` the members of an
    /// object read into (so `a.b` parses only `b`), both without changing it.
    Raw {
        /// Valid JSON text (checked when the body was scanned).
        raw: &'a str,
        parsed: OnceCell<Value>,
        opened: OnceCell<Box<Object<'a>>>,
    },
    /// An object something inside was taken from or put into; `snapshot` caches a read of
    /// the whole object and is dropped on every change below it.
    Object(Object<'a>, OnceCell<Value>),
    /// A value the plugin built or put back.
    Tree(Value),
}

/// Parses a request body lazily: a UTF-8 byte-order mark is skipped, an empty or
/// all-whitespace body is `None`, invalid JSON is `invalid-input` with serde_json's message
/// and position (the same words [`crate::json::parse_body`] uses).
pub fn parse_body(body: &[u8]) -> Result<Option<Body<'_>>, PluginError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    from_slice(body)
        .map(Some)
        .map_err(|e| PluginError::InvalidInput(format!("body is not valid JSON: {e}")))
}

/// Reads JSON text lazily. An error is serde_json's for a full parse: skipping a value
/// reports some mistakes more vaguely (a trailing comma reads "key must be a string"), so
/// invalid text is parsed again for the words a sender can act on.
pub fn from_slice(text: &[u8]) -> Result<Body<'_>, serde_json::Error> {
    serde_json::from_slice(text).map_err(|e| match serde_json::from_slice::<Value>(text) {
        Err(precise) => precise,
        Ok(_) => e,
    })
}

fn parse(raw: &str) -> Value {
    // The text was validated when the body was scanned; only serde_json's nesting limit can
    // refuse it here, and such a value is kept as null rather than failing the event.
    serde_json::from_str(raw).unwrap_or(Value::Null)
}

/// A member name's first seven bytes and its length in one word. Members are looked up by a
/// linear scan; comparing one word settles nearly every mismatch, where comparing strings
/// would be a call to a byte loop per member in a guest.
fn tag(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mut word = [0u8; 8];
    let n = bytes.len().min(7);
    word[..n].copy_from_slice(&bytes[..n]);
    word[7] = u8::try_from(bytes.len()).unwrap_or(u8::MAX);
    u64::from_le_bytes(word)
}

/// `first.rest` of a dotted path (empty segments skipped, as `json::get` does).
fn split(path: &str) -> (&str, &str) {
    // A byte search, not `split_once('.')`: a char pattern's searcher is a call and a
    // setup per path, on every member read.
    let path = skip_dots(path);
    match path.bytes().position(|b| b == b'.') {
        Some(dot) => (&path[..dot], skip_dots(&path[dot + 1..])),
        None => (path, ""),
    }
}

fn skip_dots(path: &str) -> &str {
    &path[path.bytes().take_while(|&b| b == b'.').count()..]
}

impl<'a> Object<'a> {
    /// An object built from a parsed map (every member already a tree).
    pub fn from_map(map: Map<String, Value>) -> Object<'a> {
        Object {
            members: map
                .into_iter()
                .map(|(key, value)| Member {
                    tag: tag(&key),
                    key: Cow::Owned(key),
                    node: Node::Tree(value),
                    taken: false,
                })
                .collect(),
        }
    }

    /// Splits raw object text into its members (`raw` must be an object). The text was
    /// validated when the body was scanned, so this walks it without checking it again.
    fn scan(text: &'a str) -> Object<'a> {
        let bytes = text.as_bytes();
        let mut members: Vec<Member<'a>> = Vec::new();
        let mut repeats = Repeats::default();
        let mut i = skip_ws(bytes, 0) + 1; // past `{`
        loop {
            i = skip_ws(bytes, i);
            if i >= bytes.len() || bytes[i] != b'"' {
                break; // `}`
            }
            let (key_end, escaped) = string_end(bytes, i);
            let key = if escaped {
                Cow::Owned(serde_json::from_str(&text[i..key_end]).unwrap_or_default())
            } else {
                Cow::Borrowed(&text[i + 1..key_end - 1])
            };
            let start = skip_ws(bytes, skip_ws(bytes, key_end) + 1); // past `:`
            let end = value_end(bytes, start);
            let raw = &text[start..end];
            repeats.note(&key, &members);
            members.push(raw_member(key, raw));
            i = skip_ws(bytes, end);
            if bytes.get(i) == Some(&b',') {
                i += 1;
            }
        }
        repeats.drop_earlier(&mut members);
        Object { members }
    }

    /// Where the member `key` is, unless taken.
    fn position(&self, key: &str) -> Option<usize> {
        let wanted = tag(key);
        self.members
            .iter()
            .position(|m| !m.taken && m.tag == wanted && *m.key == *key)
    }

    fn live(&self, key: &str) -> Option<&Member<'a>> {
        self.position(key).map(|i| &self.members[i])
    }

    fn live_mut(&mut self, key: &str) -> Option<&mut Member<'a>> {
        self.position(key).map(|i| &mut self.members[i])
    }

    /// Whether the object has a member `key` (null or not).
    pub fn has(&self, key: &str) -> bool {
        self.live(key).is_some()
    }

    /// The value at a dotted `path`, parsed on first read and left in place.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let (first, rest) = split(path);
        self.live(first)?.node.get(rest)
    }

    /// Whether `path` holds a value other than null, without parsing it when it is still
    /// text.
    pub fn has_value(&self, path: &str) -> bool {
        match self.get_node(path) {
            Some(Node::Raw { raw, .. }) => *raw != "null",
            Some(Node::Object(..)) => true,
            Some(Node::Tree(value)) => !value.is_null(),
            // A step that is not an object member (inside an array, a built value): the
            // general read.
            None => self.get(path).is_some_and(|v| !v.is_null()),
        }
    }

    /// Whether `path` holds an object, without parsing it when it is still text.
    pub(crate) fn is_object(&self, path: &str) -> bool {
        let (first, rest) = split(path);
        let Some(member) = self.live(first) else { return false };
        match (&member.node, rest) {
            (Node::Raw { raw, .. }, "") => raw.starts_with('{'),
            (Node::Object(..), "") => true,
            (Node::Object(object, _), rest) => object.is_object(rest),
            (node, rest) => node.get(rest).is_some_and(Value::is_object),
        }
    }

    /// Removes and returns the value at `path` (object members only; a null is removed and
    /// returned too), then drops objects the removal left empty.
    pub(crate) fn take(&mut self, path: &str) -> Option<Value> {
        let (first, rest) = split(path);
        let member = self.live_mut(first)?;
        if rest.is_empty() {
            member.taken = true;
            return Some(member.node.take_value());
        }
        let taken = member.node.take(rest)?;
        if member.node.is_empty_object() {
            member.taken = true;
        }
        Some(taken)
    }

    /// Removes the object at `path` and returns it still lazy (its members raw text); `None`
    /// (and nothing removed) when `path` holds no object.
    pub(crate) fn take_object(&mut self, path: &str) -> Option<Object<'a>> {
        if !self.is_object(path) {
            return None;
        }
        let (first, rest) = split(path);
        let member = self.live_mut(first)?;
        if !rest.is_empty() {
            member.node.open();
            let Node::Object(object, snapshot) = &mut member.node else {
                return self.take(path).and_then(|v| match v {
                    Value::Object(map) => Some(Object::from_map(map)),
                    _ => None,
                });
            };
            snapshot.take();
            let taken = object.take_object(rest);
            if member.node.is_empty_object() {
                member.taken = true;
            }
            return taken;
        }
        member.taken = true;
        member.node.open();
        match std::mem::replace(&mut member.node, Node::Tree(Value::Null)) {
            Node::Object(object, _) => Some(object),
            Node::Tree(Value::Object(map)) => Some(Object::from_map(map)),
            _ => None,
        }
    }

    /// Removes the array at `path` and returns its elements, objects still lazy; `None` (and
    /// nothing removed) when `path` holds no array.
    pub(crate) fn take_array(&mut self, path: &str) -> Option<Vec<Element<'a>>> {
        match self.get_node(path)? {
            Node::Raw { raw, .. } if raw.starts_with('[') => {
                let raw = *raw;
                self.take_node(path);
                Some(split_array(raw))
            }
            // Put there by the plugin: already parsed.
            Node::Tree(Value::Array(_)) => match self.take(path) {
                Some(Value::Array(items)) => Some(
                    items
                        .into_iter()
                        .map(|item| match item {
                            Value::Object(map) => Element::Object(Object::from_map(map)),
                            _ => Element::Other,
                        })
                        .collect(),
                ),
                _ => None,
            },
            _ => None,
        }
    }

    /// The text of the string at `path` while it is still raw and has no escapes (most ids,
    /// names, dates and URLs): read in place, nothing parsed or allocated.
    pub(crate) fn plain_str(&self, path: &str) -> Option<&'a str> {
        match self.get_node(path)? {
            Node::Raw { raw, .. } => {
                let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
                (!inner.contains('\\')).then_some(inner)
            }
            _ => None,
        }
    }

    /// The node at `path`, when every step to it is an object member.
    fn get_node(&self, path: &str) -> Option<&Node<'a>> {
        let (first, rest) = split(path);
        let node = &self.live(first)?.node;
        match (node, rest) {
            (node, "") => Some(node),
            (Node::Object(object, _), rest) => object.get_node(rest),
            (Node::Raw { raw, opened, .. }, rest) if raw.starts_with('{') => {
                opened.get_or_init(|| Box::new(Object::scan(raw))).get_node(rest)
            }
            _ => None,
        }
    }

    /// Takes the member at `path` without parsing it.
    pub(crate) fn take_node(&mut self, path: &str) {
        let (first, rest) = split(path);
        let Some(member) = self.live_mut(first) else {
            return;
        };
        if rest.is_empty() {
            member.taken = true;
            return;
        }
        member.node.open();
        if let Node::Object(object, snapshot) = &mut member.node {
            snapshot.take();
            object.take_node(rest);
        }
        if member.node.is_empty_object() {
            member.taken = true;
        }
    }

    /// Sets `path` (creating objects on the way, replacing non-objects in it); a member put
    /// back where it was taken from keeps its place.
    pub(crate) fn set(&mut self, path: &str, value: Value) {
        let (first, rest) = split(path);
        if first.is_empty() {
            return;
        }
        let index = match self.members.iter().position(|m| m.key == first) {
            Some(i) => i,
            None => {
                self.members.push(Member {
                    tag: tag(first),
                    key: Cow::Owned(first.to_string()),
                    node: Node::Tree(Value::Null),
                    taken: true,
                });
                self.members.len() - 1
            }
        };
        let member = &mut self.members[index];
        if rest.is_empty() {
            member.node = Node::Tree(value);
        } else {
            if member.taken {
                member.node = Node::Tree(Value::Object(Map::new()));
            }
            member.node.set(rest, value);
        }
        member.taken = false;
    }

    /// What is left of the object, parsed into a value (an envelope copied into each event).
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.members
                .iter()
                .filter(|m| !m.taken)
                .map(|m| (m.key.to_string(), m.node.to_value()))
                .collect(),
        )
    }

    fn is_empty(&self) -> bool {
        self.members.iter().all(|m| m.taken)
    }

    /// Writes what is left as compact JSON: untouched text copied, URL credentials masked.
    pub(crate) fn write(&mut self, out: &mut String) {
        out.push('{');
        let mut first = true;
        for member in self.members.iter_mut().filter(|m| !m.taken) {
            if !first {
                out.push(',');
            }
            first = false;
            push_key(&member.key, out);
            out.push(':');
            member.node.write(out);
        }
        out.push('}');
    }
}

impl<'a> Node<'a> {
    fn get(&self, rest: &str) -> Option<&Value> {
        match self {
            Node::Raw { raw, parsed, .. } if rest.is_empty() => Some(parsed.get_or_init(|| parse(raw))),
            Node::Raw { raw, opened, .. } if raw.starts_with('{') => {
                opened.get_or_init(|| Box::new(Object::scan(raw))).get(rest)
            }
            Node::Raw { raw, parsed, .. } => crate::json::get(parsed.get_or_init(|| parse(raw)), rest),
            Node::Object(object, snapshot) if rest.is_empty() => Some(snapshot.get_or_init(|| object.to_value())),
            Node::Object(object, _) => object.get(rest),
            Node::Tree(value) => crate::json::get(value, rest),
        }
    }

    /// Opens raw object text into members before something inside it changes.
    fn open(&mut self) {
        if let Node::Raw { raw, opened, .. } = self
            && raw.starts_with('{')
        {
            let object = opened.take().map_or_else(|| Object::scan(raw), |o| *o);
            *self = Node::Object(object, OnceCell::new());
        }
    }

    fn take(&mut self, rest: &str) -> Option<Value> {
        self.open();
        match self {
            Node::Raw { .. } => None,
            Node::Object(object, snapshot) => {
                snapshot.take();
                object.take(rest)
            }
            Node::Tree(value) => crate::json::take(value, rest),
        }
    }

    fn set(&mut self, rest: &str, value: Value) {
        self.open();
        match self {
            Node::Object(object, snapshot) => {
                snapshot.take();
                object.set(rest, value);
            }
            Node::Tree(Value::Object(map)) => crate::json::set(map, rest, value),
            other => {
                let mut map = Map::new();
                crate::json::set(&mut map, rest, value);
                *other = Node::Tree(Value::Object(map));
            }
        }
    }

    fn take_value(&mut self) -> Value {
        match self {
            Node::Raw { raw, parsed, .. } => parsed.take().unwrap_or_else(|| parse(raw)),
            Node::Object(object, snapshot) => snapshot.take().unwrap_or_else(|| object.to_value()),
            Node::Tree(value) => std::mem::take(value),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Node::Raw { raw, parsed, .. } => parsed.get().cloned().unwrap_or_else(|| parse(raw)),
            Node::Object(object, snapshot) => snapshot.get().cloned().unwrap_or_else(|| object.to_value()),
            Node::Tree(value) => value.clone(),
        }
    }

    fn is_empty_object(&self) -> bool {
        match self {
            Node::Raw { .. } => false,
            Node::Object(object, _) => object.is_empty(),
            Node::Tree(value) => value.as_object().is_some_and(Map::is_empty),
        }
    }

    fn write(&mut self, out: &mut String) {
        match self {
            Node::Raw { raw, .. } => copy_compact(raw, out),
            Node::Object(object, _) => object.write(out),
            Node::Tree(value) => {
                crate::url::mask_urls(value);
                out.push_str(&value.to_string());
            }
        }
    }
}

fn raw_member<'a>(key: Cow<'a, str>, raw: &'a str) -> Member<'a> {
    Member {
        tag: tag(&key),
        key,
        node: Node::Raw {
            raw,
            parsed: OnceCell::new(),
            opened: OnceCell::new(),
        },
        taken: false,
    }
}

/// Notes keys as they are added and, at the end, drops the earlier of repeated ones (a parse
/// into a map keeps the last value too). A 256-bit filter makes the common case, no repeats,
/// one hash per key; a filter hit is checked exactly among the first 64 members, and beyond
/// them costs one linear pass with a set at the end, never a quadratic search (an object of
/// half a million members must not stall the guest).
#[derive(Default)]
struct Repeats {
    filter: [u64; 4],
    maybe: bool,
}

impl Repeats {
    fn note(&mut self, key: &str, before: &[Member<'_>]) {
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        let (word, bit) = ((hash >> 6) as usize & 3, 1u64 << (hash & 63));
        if self.filter[word] & bit != 0 && !self.maybe {
            self.maybe = before.len() > 64 || before.iter().any(|m| m.key == key);
        }
        self.filter[word] |= bit;
    }

    fn drop_earlier(self, members: &mut Vec<Member<'_>>) {
        if !self.maybe {
            return;
        }
        let mut seen = std::collections::HashSet::new();
        let mut keep: Vec<bool> = members.iter().rev().map(|m| seen.insert(m.key.clone())).collect();
        keep.reverse();
        let mut keep = keep.into_iter();
        members.retain(|_| keep.next().unwrap_or(true));
    }
}

#[cfg(test)]
mod tests;
