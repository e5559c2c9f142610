//! The router's OCI cache, `<data_dir>/oci`: blobs by digest (`blobs/sha256/<hex>`: manifests
//! and components) and `refs.json`, the digest each tag-only reference was resolved to the
//! first time. What is here is used without the network: a pinned module, or a tag resolved
//! before, starts offline.

use super::artifact::{self, Manifest};
use super::reference::Reference;
use super::registry::{Pulled, Registry};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The cache of one data dir.
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache in `data_dir`.
    pub fn new(data_dir: &Path) -> Cache {
        Cache {
            dir: data_dir.join("oci"),
        }
    }

    fn blob(&self, digest: &str) -> PathBuf {
        self.dir
            .join("blobs/sha256")
            .join(digest.strip_prefix("sha256:").unwrap_or(digest))
    }

    fn put(&self, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.blob(&artifact::digest(bytes));
        if path.exists() {
            return Ok(path);
        }
        let dir = path.parent().context("a blob's folder")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
        Ok(path)
    }

    /// The cached component of the manifest `digest`, checked against its digest (a blob
    /// changed on disk is not used).
    pub fn component_of(&self, digest: &str) -> Option<PathBuf> {
        let manifest = std::fs::read(self.blob(digest)).ok()?;
        if artifact::digest(&manifest) != digest {
            return None;
        }
        let manifest: Manifest = serde_json::from_slice(&manifest).ok()?;
        let layer = manifest.component().ok()?;
        let path = self.blob(&layer.digest);
        let bytes = std::fs::read(&path).ok()?;
        (artifact::digest(&bytes) == layer.digest).then_some(path)
    }

    fn store(&self, pulled: &Pulled) -> anyhow::Result<PathBuf> {
        let component = self.put(&pulled.component)?;
        self.put(&pulled.manifest)?;
        Ok(component)
    }

    fn refs_path(&self) -> PathBuf {
        self.dir.join("refs.json")
    }

    fn refs(&self) -> BTreeMap<String, String> {
        std::fs::read(self.refs_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// The digest a tag-only reference was resolved to before.
    pub fn resolved(&self, reference: &Reference) -> Option<String> {
        self.refs().remove(&reference.to_string())
    }

    fn remember(&self, reference: &Reference, digest: &str) -> anyhow::Result<()> {
        let mut refs = self.refs();
        refs.insert(reference.to_string(), digest.to_string());
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.refs_path().with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&refs)?)?;
        std::fs::rename(&tmp, self.refs_path())?;
        Ok(())
    }
}

/// The component file for `reference`: from the cache when it is there (a pinned digest, or a
/// tag resolved before), else pulled, verified and cached. A tag is resolved once; its digest is
/// logged and used from then on.
pub async fn fetch(reference: &Reference, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let cache = Cache::new(data_dir);
    let pinned = reference.digest.clone().or_else(|| cache.resolved(reference));
    if let Some(digest) = &pinned
        && let Some(path) = cache.component_of(digest)
    {
        return Ok(path);
    }
    let target = pinned
        .as_deref()
        .map_or_else(|| reference.clone(), |d| reference.pinned(d));
    let pulled = Registry::new(&reference.registry)?
        .pull(&target)
        .await
        .with_context(|| format!("pulling {target} (not in the cache {})", cache.dir.display()))?;
    let path = cache.store(&pulled)?;
    if reference.digest.is_none() && pinned.is_none() {
        cache.remember(reference, &pulled.manifest_digest)?;
        tracing::info!(
            reference = %reference,
            digest = %pulled.manifest_digest,
            "Resolved a tag to a digest; this router keeps using that digest. Pin it in router.toml: source = \"{}\"",
            reference.pinned(&pulled.manifest_digest)
        );
    }
    Ok(path)
}
