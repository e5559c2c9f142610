//! Config and plugins from the cluster: `switchyard publish` stores router.toml and its plugin
//! files in JetStream; routers started with `run --from-cluster` fetch them and follow every
//! later publish.
//!
//! A **release** is one KV entry (`<stream>_CONFIG`, key `release`, ten revisions kept): the
//! config text with each plugin's `path` rewritten to `files/<sha256>.wasm`, and the list of
//! those files. The files themselves live in an object store (`<stream>_FILES`), named by their
//! SHA-256, so a publish uploads only what changed and a node verifies what it downloads.
//!
//! A node writes a release into `<data_dir>/cluster-config/` — files first, then router.toml
//! (renamed into place) — and the ordinary hot reload takes it from there: compile, load
//! plugins, self-test, swap. A node that rejects it keeps its running config and says so in
//! its status report (`last_reload`), which every node's `/admin/status` shows.

use super::connect::Cluster;
use crate::config::RouterSpec;
use async_nats::jetstream::{kv, object_store, stream};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "release";
/// Releases kept in the KV (for `switchyard publish` to show what it replaced, and for a
/// roll-back by hand).
const HISTORY: i64 = 10;

/// One published config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    /// The record's format (`formats::CLUSTER_RELEASE`); absent in releases of 0.1.0: 1.
    #[serde(default = "crate::formats::first")]
    pub format: u32,
    /// router.toml, plugin paths rewritten to `files/<sha256>.wasm`.
    pub config: String,
    /// `files/<sha256>.wasm` → its SHA-256 (hex).
    pub files: BTreeMap<String, String>,
    /// When it was published (epoch ms).
    pub published_ms: i64,
    /// SHA-256 of `config`.
    pub config_sha256: String,
}

/// What `switchyard publish` did.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// The KV revision of the release.
    pub revision: u64,
    /// SHA-256 of the published config text (what nodes report as `config_sha256`).
    pub config_sha256: String,
    /// Plugin files in the release.
    pub files: usize,
    /// Files uploaded now (the others were already in the store).
    pub uploaded: usize,
}

impl Cluster {
    async fn releases(&self) -> anyhow::Result<kv::Store> {
        let bucket = format!("{}_CONFIG", self.spec.stream);
        self.kv_bucket(&bucket, "switchyard: published configs", HISTORY, Duration::ZERO)
            .await
    }

    async fn files(&self) -> anyhow::Result<object_store::ObjectStore> {
        let bucket = format!("{}_FILES", self.spec.stream);
        if let Ok(store) = self.js.get_object_store(&bucket).await {
            return Ok(store);
        }
        self.js
            .create_object_store(object_store::Config {
                bucket: bucket.clone(),
                description: Some("switchyard: plugin files of published configs".into()),
                num_replicas: self.spec.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("cluster: creating object store `{bucket}`: {e}"))
    }

    /// A KV bucket, created if missing. Its stream is made directly, laid out as a KV bucket
    /// is (`KV_<bucket>`, `$KV.<bucket>.>`): the client's create_key_value first asks for
    /// account details in a shape Debian 12's nats-server (2.9) does not answer with.
    pub(super) async fn kv_bucket(
        &self,
        bucket: &str,
        description: &str,
        history: i64,
        max_age: Duration,
    ) -> anyhow::Result<kv::Store> {
        if let Ok(store) = self.js.get_key_value(bucket).await {
            return Ok(store);
        }
        self.js
            .get_or_create_stream(stream::Config {
                name: format!("KV_{bucket}"),
                description: Some(description.into()),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: history,
                max_age,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                num_replicas: self.spec.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("cluster: creating KV bucket `{bucket}`: {e}"))?;
        self.js
            .get_key_value(bucket)
            .await
            .map_err(|e| anyhow::anyhow!("cluster: opening KV bucket `{bucket}`: {e}"))
    }

    /// Publishes the config at `spec.config_path` and its plugins.
    pub async fn publish_release(&self, spec: &RouterSpec) -> anyhow::Result<Published> {
        let text = std::fs::read_to_string(&spec.config_path)?;
        let mut config = text.clone();
        let mut files = BTreeMap::new();
        let mut uploads = Vec::new();
        // Plugin files and trusted key files travel the same way: content-addressed, the
        // config rewritten to name them (from the end, so earlier ranges stay valid).
        let mut carried: Vec<Carried> = Vec::new();
        for (id, span) in crate::config::plugin_path_spans(&text) {
            let plugin = spec
                .plugins
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| anyhow::anyhow!("plugin `{id}` is not in the compiled config"))?;
            let bytes = crate::plugin::builtin::read(&plugin.path)
                .map_err(|e| anyhow::anyhow!("plugin `{id}`: reading {}: {e}", plugin.path.display()))?;
            carried.push((id, "wasm", bytes, span));
        }
        let base = spec.config_path.parent().unwrap_or(Path::new("."));
        for (id, written, span) in crate::config::trust_key_file_spans(&text) {
            let path = base.join(&written);
            let bytes = std::fs::read(&path)
                .map_err(|e| anyhow::anyhow!("trust key `{id}`: reading {}: {e}", path.display()))?;
            carried.push((id, "pub", std::borrow::Cow::Owned(bytes), span));
        }
        carried.sort_by_key(|(_, _, _, span)| std::cmp::Reverse(span.start));
        for (_, extension, bytes, span) in carried {
            let sha = crate::digest::sha256(&bytes);
            let name = format!("files/{sha}.{extension}");
            config.replace_range(span, &format!("\"{name}\""));
            files.insert(name, sha.clone());
            uploads.push((sha, bytes.into_owned()));
        }
        let store = self.files().await?;
        let mut uploaded = 0;
        for (sha, bytes) in uploads {
            if store.info(&sha).await.is_ok() {
                continue;
            }
            store
                .put(sha.as_str(), &mut bytes.as_slice())
                .await
                .map_err(|e| anyhow::anyhow!("uploading plugin file {sha}: {e}"))?;
            uploaded += 1;
        }
        let release = Release {
            // Version 3 only when the release needs it: older nodes keep taking the rest.
            format: if spec
                .plugins
                .iter()
                .any(|p| p.source.is_some() || p.signature.required || !p.signature.keys.is_empty())
            {
                crate::formats::CLUSTER_RELEASE.current
            } else {
                2
            },
            config_sha256: crate::digest::sha256(config.as_bytes()),
            config,
            files,
            published_ms: crate::clock::now_ms(),
        };
        let revision = self
            .releases()
            .await?
            .put(KEY, serde_json::to_vec(&release)?.into())
            .await
            .map_err(|e| anyhow::anyhow!("storing the release: {e}"))?;
        Ok(Published {
            revision,
            config_sha256: release.config_sha256,
            files: release.files.len(),
            uploaded,
        })
    }

    /// The current release, if anything was published.
    pub async fn current_release(&self) -> anyhow::Result<Option<Release>> {
        match self.releases().await?.get(KEY).await? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Writes `release` into `dir`: missing plugin files first (checked against their
    /// SHA-256), then router.toml, renamed into place only if it changed. Returns the config
    /// path and whether it changed.
    pub async fn materialize(&self, release: &Release, dir: &Path) -> anyhow::Result<(PathBuf, bool)> {
        // A release from a newer router may use what this one cannot run: refuse it whole.
        crate::formats::CLUSTER_RELEASE.open(release.format, format!("(KV key `{KEY}`)"), None)?;
        tokio::fs::create_dir_all(dir.join("files")).await?;
        let store = self.files().await?;
        for (name, sha) in &release.files {
            let path = dir.join(name);
            if tokio::fs::read(&path)
                .await
                .is_ok_and(|b| crate::digest::sha256(&b) == *sha)
            {
                continue;
            }
            let mut object = store
                .get(sha)
                .await
                .map_err(|e| anyhow::anyhow!("fetching plugin file {sha}: {e}"))?;
            let mut bytes = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut object, &mut bytes).await?;
            anyhow::ensure!(
                crate::digest::sha256(&bytes) == *sha,
                "plugin file {sha} arrived with another digest; not used"
            );
            write_atomically(&path, &bytes).await?;
        }
        let config = dir.join("router.toml");
        let changed = tokio::fs::read(&config)
            .await
            .map_or(true, |old| old != release.config.as_bytes());
        if changed {
            write_atomically(&config, release.config.as_bytes()).await?;
        }
        Ok((config, changed))
    }
}

/// A file a release carries: what names it (for errors), its extension, its bytes and the
/// span of its path in the config text.
type Carried = (
    String,
    &'static str,
    std::borrow::Cow<'static, [u8]>,
    std::ops::Range<usize>,
);

async fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await?;
    Ok(())
}

/// Where a node keeps the published config: `<data_dir>/cluster-config`.
pub fn release_dir(node: &RouterSpec) -> PathBuf {
    node.server.data_dir.join("cluster-config")
}

/// `switchyard publish`: checks nothing beyond compiling (run `switchyard check` first) and
/// publishes the config at `spec.config_path` with its plugins.
pub async fn publish(spec: &RouterSpec) -> anyhow::Result<Published> {
    let cluster_spec = spec.cluster.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "{} has no [cluster]: publish needs to know the NATS to publish to",
            spec.config_path.display()
        )
    })?;
    let window = Duration::from_secs(spec.server.dedup_window_secs);
    Cluster::connect(cluster_spec, window)
        .await?
        .publish_release(spec)
        .await
}

/// At the start of `run --from-cluster`: connects with the node's settings and writes the
/// current release; returns the connection and the config path.
pub async fn fetch(node: &RouterSpec) -> anyhow::Result<(Arc<Cluster>, PathBuf)> {
    let spec = node
        .cluster
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("{}: --from-cluster needs a [cluster] table", node.config_path.display()))?;
    let cluster = Cluster::connect(spec, Duration::from_secs(node.server.dedup_window_secs)).await?;
    let release = cluster.current_release().await?.ok_or_else(|| {
        anyhow::anyhow!(
            "nothing is published in stream `{}` yet: run `switchyard publish --config router.toml`",
            spec.stream
        )
    })?;
    let (path, _) = cluster.materialize(&release, &release_dir(node)).await?;
    tracing::info!(config_sha256 = %release.config_sha256, path = %path.display(), "Config fetched from the cluster.");
    Ok((cluster, path))
}

/// Writes a published release (a KV entry) into `dir`; failures are logged, the running
/// config stays.
async fn apply(cluster: &Cluster, dir: &Path, entry: &kv::Entry) {
    if entry.operation != kv::Operation::Put {
        return;
    }
    let release: Release = match serde_json::from_slice(&entry.value) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(revision = entry.revision, error = %e, "A published release is not readable; ignored.");
            return;
        }
    };
    match cluster.materialize(&release, dir).await {
        Ok((_, true)) => {
            tracing::info!(revision = entry.revision, config_sha256 = %release.config_sha256, "New config published to the cluster; reloading.")
        }
        Ok((_, false)) => {}
        Err(e) => {
            tracing::error!(revision = entry.revision, error = %e, "Fetching a published release failed; the running config stays.")
        }
    }
}

/// Follows later releases until `shutdown`, writing each into the node's release dir (the
/// file watcher then reloads). Reconnects its watch when NATS goes away.
pub async fn follow(cluster: Arc<Cluster>, node: RouterSpec, shutdown: crate::shutdown::Shutdown) {
    let dir = release_dir(&node);
    loop {
        let watch = async {
            let releases = cluster.releases().await?;
            // The current release first (one may have been published while this node started
            // or while NATS was away), then every later one from the revision after it.
            let current = releases.entry(KEY).await?;
            let from = match &current {
                Some(entry) => {
                    apply(&cluster, &dir, entry).await;
                    entry.revision + 1
                }
                None => 1,
            };
            let mut updates = releases.watch_from_revision(KEY, from).await?;
            while let Some(entry) = updates.next().await {
                apply(&cluster, &dir, &entry?).await;
            }
            anyhow::Ok(())
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            result = watch => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "Following published configs paused; retrying.");
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
