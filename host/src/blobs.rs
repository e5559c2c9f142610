//! Content-addressed storage for media bytes that arrived inline (base64 snapshots): stored
//! once under `<data_dir>/blobs/<aa>/<sha256>`, referenced from events by hash, so images never
//! travel inside events.

use std::path::{Path, PathBuf};

/// The blob directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    /// Uses `<data_dir>/blobs`.
    pub fn new(data_dir: &Path) -> BlobStore {
        BlobStore {
            dir: data_dir.join("blobs"),
        }
    }

    /// Where a blob with this hex sha256 lives.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Stores bytes (idempotently) and returns their hex sha256.
    pub async fn put(&self, bytes: &[u8]) -> anyhow::Result<String> {
        let hash = crate::digest::sha256(bytes);
        let path = self.path_of(&hash);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(hash);
        }
        let dir = path.parent().unwrap_or(&self.dir);
        tokio::fs::create_dir_all(dir).await?;
        let tmp = dir.join(format!(".{hash}.{}.tmp", crate::clock::new_ulid()));
        // Synced before the event that references it is committed and acknowledged; a failed
        // write (a full disk) leaves nothing behind.
        let written = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
            file.sync_data().await?;
            tokio::fs::rename(&tmp, &path).await?;
            tokio::fs::File::open(dir).await?.sync_all().await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        Ok(hash)
    }
}

/// The MIME type of common image formats, from their magic bytes.
pub fn sniff_mime(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        [b'B', b'M', ..] => Some("image/bmp"),
        _ => None,
    }
}
