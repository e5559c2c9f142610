//! Byte-level walks over JSON text the body scan already validated: where a value or string
//! ends, whitespace, and the compact copy that becomes the extras.

use super::find::{below, bracket, eq, find};
use super::{Element, Object};
use serde_json::Value;

/// A member name as a JSON string.
pub(super) fn push_key(key: &str, out: &mut String) {
    if key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&Value::String(key.to_string()).to_string());
    } else {
        out.push('"');
        out.push_str(key);
        out.push('"');
    }
}

/// Copies valid JSON text without its insignificant whitespace, masking the user-info of
/// URLs in strings (`rtsp://***@host`), so extras stay one line and carry no credentials.
/// One pass over the bytes; untouched runs are copied in slices.
pub(super) fn copy_compact(raw: &str, out: &mut String) {
    let bytes = raw.as_bytes();
    out.reserve(bytes.len());
    let (mut i, mut run) = (0, 0);
    loop {
        // Outside strings, valid JSON has no byte below 0x21 but whitespace.
        i = find(bytes, i, |w| below(w, 0x21) | eq(w, b'"'), |b| b < 0x21 || b == b'"');
        match bytes.get(i) {
            None => break,
            Some(b'"') => {
                let (end, suspect) = string_end(bytes, i);
                if suspect {
                    let text = &raw[i..end];
                    let decoded: String = serde_json::from_str(text).unwrap_or_default();
                    if decoded.contains("://") {
                        let masked = crate::url::redact_credentials(&decoded, "***");
                        if masked != decoded {
                            out.push_str(&raw[run..i]);
                            out.push_str(&Value::String(masked).to_string());
                            run = end;
                        }
                    }
                }
                i = end;
            }
            Some(_) => {
                out.push_str(&raw[run..i]);
                i = skip_ws(bytes, i);
                run = i;
            }
        }
    }
    out.push_str(&raw[run..]);
}

/// The index just past the closing quote of the JSON string starting at `start`, and whether
/// the string may hold a URL: a `://`, or an escape (an escaped slash, `:\/\/`, must not hide
/// one from the mask).
pub(super) fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut i = start + 1;
    let mut suspect = false;
    loop {
        i = find(
            bytes,
            i,
            |w| eq(w, b'"') | eq(w, b'\\') | eq(w, b':'),
            |b| matches!(b, b'"' | b'\\' | b':'),
        );
        match bytes.get(i) {
            None => return (bytes.len(), suspect),
            Some(b'"') => return (i + 1, suspect),
            Some(b'\\') => {
                suspect = true;
                i += 2;
            }
            Some(_) => {
                suspect |= bytes.get(i + 1) == Some(&b'/');
                i += 1;
            }
        }
    }
}

/// Splits valid raw array text into its elements, objects split into members.
pub(super) fn split_array(text: &str) -> Vec<Element<'_>> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut i = skip_ws(bytes, 0) + 1; // past `[`
    loop {
        i = skip_ws(bytes, i);
        if i >= bytes.len() || bytes[i] == b']' {
            break;
        }
        let end = value_end(bytes, i);
        items.push(if bytes[i] == b'{' {
            Element::Object(Object::scan(&text[i..end]))
        } else {
            Element::Other
        });
        i = skip_ws(bytes, end);
        if bytes.get(i) == Some(&b',') {
            i += 1;
        }
    }
    items
}

pub(super) fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The index just past the valid JSON value starting at `start`.
pub(super) fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start) {
        Some(b'"') => string_end(bytes, start).0,
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = start;
            loop {
                i = find(
                    bytes,
                    i,
                    |w| eq(w, b'"') | bracket(w),
                    |b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'),
                );
                match bytes.get(i) {
                    None => return bytes.len(),
                    Some(b'"') => {
                        i = string_end(bytes, i).0;
                        continue;
                    }
                    Some(b'{' | b'[') => depth += 1,
                    Some(_) => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                }
                i += 1;
            }
        }
        // A number or a literal: a few bytes.
        _ => {
            let mut i = start;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                i += 1;
            }
            i
        }
    }
}
