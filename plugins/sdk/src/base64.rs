//! Standard base64 (RFC 4648, with or without padding, whitespace ignored) for inline vendor
//! images, plus `data:` URI prefixes. Small enough that plugins need no extra dependency.

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes base64 text; the error says what is wrong (used as `media.decode_error`).
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    // `data:image/jpeg;base64,....`
    let text = match text.strip_prefix("data:").and_then(|rest| rest.split_once(',')) {
        Some((_, payload)) => payload,
        None => text,
    };
    if let Some((i, c)) = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii() || (value(*c as u8).is_none() && *c != '=' && !c.is_ascii_whitespace()))
    {
        return Err(format!("invalid base64 character {c:?} at offset {i}"));
    }
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = symbols
        .strip_suffix(b"==")
        .or_else(|| symbols.strip_suffix(b"="))
        .unwrap_or(&symbols);
    if body.is_empty() {
        return Err("empty".to_string());
    }
    if body.len() % 4 == 1 {
        return Err(format!(
            "truncated: {} base64 characters cannot encode whole bytes",
            body.len()
        ));
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for (i, &c) in body.iter().enumerate() {
        let v = value(c).ok_or_else(|| format!("invalid base64 character {:?} at offset {i}", c as char))?;
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_padded_unpadded_and_data_uris() {
        assert_eq!(decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode("data:image/jpeg;base64,/9j/").unwrap(), [0xff, 0xd8, 0xff]);
        assert_eq!(decode(" aGVs\nbG8= ").unwrap(), b"hello");
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(decode(" ").unwrap_err(), "empty");
        assert!(
            decode("我是远程鉴权/eventRcv")
                .unwrap_err()
                .starts_with("invalid base64 character")
        );
        assert!(decode("abcde").unwrap_err().starts_with("truncated"));
    }
}
