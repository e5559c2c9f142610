//! `Content-Encoding` undone at the edge (gzip, deflate), never producing more than the
//! source's body cap: a small compressed body cannot become a big one in memory.

use bytes::Bytes;

/// Why a `Content-Encoding` could not be undone.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// An encoding the router does not speak.
    #[error("unsupported Content-Encoding `{0}` (supported: gzip, deflate, identity)")]
    Unsupported(String),
    /// The bytes are not valid for their encoding.
    #[error("body is not valid {encoding}: {reason}")]
    Corrupt {
        /// The encoding.
        encoding: String,
        /// The decoder's message.
        reason: String,
    },
    /// Decompressed, the body exceeds the cap (a "zip bomb" or just too big).
    #[error("decompressed body exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
}

/// Undoes `Content-Encoding` (gzip, deflate), never producing more than `limit` bytes.
pub fn decode(encoding: Option<&str>, body: Bytes, limit: usize) -> Result<Bytes, DecodeError> {
    use std::io::Read;
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase()).unwrap_or_default();
    let mut reader: Box<dyn Read> = match encoding.as_str() {
        "" | "identity" => return Ok(body),
        "gzip" | "x-gzip" => Box::new(flate2::read::GzDecoder::new(std::io::Cursor::new(body))),
        // HTTP's "deflate" is the zlib format.
        "deflate" => Box::new(flate2::read::ZlibDecoder::new(std::io::Cursor::new(body))),
        other => return Err(DecodeError::Unsupported(other.to_string())),
    };
    let mut out = Vec::new();
    (&mut reader)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt {
            encoding: encoding.clone(),
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        Bytes::from(enc.finish().unwrap())
    }

    #[test]
    fn gzip_and_identity() {
        assert_eq!(
            decode(Some("gzip"), gzip(b"[1,2]"), 100).unwrap(),
            Bytes::from_static(b"[1,2]")
        );
        assert_eq!(
            decode(None, Bytes::from_static(b"x"), 100).unwrap(),
            Bytes::from_static(b"x")
        );
        assert!(matches!(decode(Some("br"), Bytes::new(), 100), Err(DecodeError::Unsupported(e)) if e == "br"));
        assert!(matches!(
            decode(Some("gzip"), Bytes::from_static(b"nope"), 100),
            Err(DecodeError::Corrupt { .. })
        ));
    }

    #[test]
    fn decompression_is_capped() {
        let bomb = gzip(&vec![b'a'; 10_000]);
        assert!(bomb.len() < 200);
        assert!(matches!(
            decode(Some("gzip"), bomb, 1000),
            Err(DecodeError::TooLarge { limit: 1000 })
        ));
    }
}
