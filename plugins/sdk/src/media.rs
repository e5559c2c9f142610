//! Media references: images are never carried inside events. Inline (base64) images are
//! decoded here and handed to the host in `content`; the host stores them content-addressed.

use crate::types::{Bbox, MediaRef, MediaRole};

/// A reference with only its role set.
pub fn reference(role: MediaRole) -> MediaRef {
    MediaRef {
        role,
        url: None,
        vendor_media_id: None,
        blob_ref: None,
        mime: None,
        bytes: None,
        decode_error: None,
        bbox: None,
        content: None,
    }
}

/// A reference to an image at `url`, optionally with the region of interest.
pub fn linked(role: MediaRole, url: Option<String>, bbox: Option<Bbox>) -> MediaRef {
    MediaRef {
        url,
        bbox,
        ..reference(role)
    }
}

/// An inline base64 image: decoded bytes for the host's blob store, or — for blank,
/// placeholder or truncated text — a `decode_error` saying what was wrong (never a failure).
pub fn inline(role: MediaRole, base64_text: &str) -> MediaRef {
    let mut media = reference(role);
    match crate::base64::decode(base64_text) {
        Ok(bytes) => {
            media.bytes = Some(bytes.len() as u64);
            media.content = Some(bytes);
        }
        Err(why) => media.decode_error = Some(why),
    }
    media
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_images_decode_or_say_why() {
        let ok = inline(MediaRole::FaceCrop, "/9j/");
        assert_eq!(
            (ok.bytes, ok.content.as_deref()),
            (Some(3), Some(&[0xff, 0xd8, 0xff][..]))
        );
        assert_eq!(inline(MediaRole::FaceCrop, " ").decode_error.as_deref(), Some("empty"));
    }
}
