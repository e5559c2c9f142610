//! `application/x-www-form-urlencoded` query strings (NoahFace sends events as GET parameters).

/// Decodes `%XX` escapes and `+` (space). Invalid escapes are kept literally; invalid UTF-8
/// becomes U+FFFD, so a value is never lost.
pub fn decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a raw query into decoded `(name, value)` pairs, in order, repeats kept.
pub fn parse(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        assert_eq!(decode("2018-12-21+21%3A03%3A47"), "2018-12-21 21:03:47");
        assert_eq!(decode("Acme%20Corp"), "Acme Corp");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%E7%8E%8B"), "王");
    }

    #[test]
    fn parses_pairs_in_order() {
        assert_eq!(
            parse("a=1&devid=&b=x+y&a=2&flag"),
            vec![
                ("a".into(), "1".into()),
                ("devid".into(), "".into()),
                ("b".into(), "x y".into()),
                ("a".into(), "2".into()),
                ("flag".into(), "".into())
            ]
        );
    }
}
