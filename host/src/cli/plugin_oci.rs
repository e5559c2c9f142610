//! `plugin push` and `plugin pull`: a component to and from an OCI registry, in the Wasm OCI
//! artifact layout (see `oci`).

use crate::oci::{Reference, Registry};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// `plugin push FILE oci://registry/repository:tag`: uploads the component and its manifest;
/// returns the reference pinned to the manifest's digest (what router.toml should say).
pub async fn plugin_push(file: &Path, reference: &str) -> anyhow::Result<String> {
    let reference: Reference = reference.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let component = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    anyhow::ensure!(
        !router_plugin_kit::componentize::is_core_module(&component),
        "{} is a core wasm module, not a component: build it with `switchyard plugin build`",
        file.display()
    );
    let digest = Registry::new(&reference.registry)?.push(&reference, &component).await?;
    let signed = match router_plugin_kit::signature::read(&component)? {
        Some(s) => format!("signed by {}", s.signer.fingerprint()),
        None => "unsigned (`switchyard plugin sign` first, if routers require signatures)".to_string(),
    };
    Ok(format!(
        "pushed {} ({} bytes, {signed})\nsource = \"{}\"\n",
        file.display(),
        component.len(),
        reference.pinned(&digest)
    ))
}

/// `plugin pull oci://… [-o FILE]`: fetches and verifies the component (against the pinned
/// digest when the reference has one) and writes it; returns what was written.
pub async fn plugin_pull(reference: &str, out: Option<&Path>) -> anyhow::Result<String> {
    let reference: Reference = reference.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let pulled = Registry::new(&reference.registry)?.pull(&reference).await?;
    let out: PathBuf = out.map(Path::to_path_buf).unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}.wasm",
            reference.repository.rsplit('/').next().unwrap_or("plugin")
        ))
    });
    router_plugin_kit::componentize::write_if_changed(&out, &pulled.component)?;
    Ok(format!(
        "pulled {} → {} ({} bytes)\nsource = \"{}\"\n",
        reference,
        out.display(),
        pulled.component.len(),
        reference.pinned(&pulled.manifest_digest)
    ))
}
