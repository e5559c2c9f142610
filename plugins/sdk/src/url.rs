//! Finding `scheme://user:password@host` inside arbitrary text without a regex engine.

/// Masks the user-info of every URL in `value`'s strings (`***`).
pub(crate) fn mask_urls(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains("://") => *s = redact_credentials(s, "***"),
        Value::Array(items) => items.iter_mut().for_each(mask_urls),
        Value::Object(map) => map.values_mut().for_each(mask_urls),
        _ => {}
    }
}

/// Replaces the user-info of every URL in `text` with `mask`: `rtsp://admin:pw@10.0.0.5/s`
/// becomes `rtsp://***@10.0.0.5/s`. Text without credentials is returned unchanged.
pub fn redact_credentials(text: &str, mask: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let authority_start = pos + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        // The authority ends at the path, query, fragment or any whitespace/quote.
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(mask);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_credentials as r;

    #[test]
    fn masks_user_info_only() {
        assert_eq!(
            r("rtsp://admin:password@192.0.2.10:554/live", "***"),
            "rtsp://***@192.0.2.10:554/live"
        );
        assert_eq!(
            r("http://192.0.2.1/uploads/a.jpg", "***"),
            "http://192.0.2.1/uploads/a.jpg"
        );
        assert_eq!(
            r("two: rtsp://a:b@h/x and http://c@d", "#"),
            "two: rtsp://#@h/x and http://#@d"
        );
        assert_eq!(r("no url here", "***"), "no url here");
        assert_eq!(r("mailto:x@y.z", "***"), "mailto:x@y.z");
    }
}
