//! The Wasm OCI artifact (CNCF TAG Runtime's "Wasm OCI Artifact" layout, as wasm-pkg-tools and
//! wasmCloud write it): an OCI image manifest, a small JSON config naming the component's
//! imports and exports, and the component as the one layer.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config blob's media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// A blob named by a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Descriptor {
    pub(super) media_type: String,
    pub(super) digest: String,
    pub(super) size: u64,
}

/// An OCI image manifest (the members this router writes and reads; others are ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    pub(super) schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) media_type: Option<String>,
    pub(super) config: Descriptor,
    pub(super) layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// The component layer: the one `application/wasm` layer.
    pub(super) fn component(&self) -> Result<&Descriptor, String> {
        let mut wasm = self.layers.iter().filter(|l| l.media_type == LAYER_MEDIA_TYPE);
        match (wasm.next(), wasm.next()) {
            (Some(layer), None) => Ok(layer),
            (None, _) => Err(format!(
                "the manifest has no `{LAYER_MEDIA_TYPE}` layer (config media type `{}`): not a Wasm artifact",
                self.config.media_type
            )),
            (Some(_), Some(_)) => Err(format!(
                "the manifest has several `{LAYER_MEDIA_TYPE}` layers; expected one"
            )),
        }
    }
}

/// The config blob (`application/vnd.wasm.config.v0+json`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig {
    created: String,
    author: Option<String>,
    architecture: String,
    os: String,
    layer_digests: Vec<String>,
    component: Option<ComponentInfo>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ComponentInfo {
    exports: Vec<String>,
    imports: Vec<String>,
    target: Option<String>,
}

pub(super) fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::digest::sha256(bytes))
}

/// The config blob and the manifest for `component`, with the signature's claims (when it is
/// signed) as the standard OCI annotations.
pub(super) fn package(component: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let report = router_plugin_kit::inspect::inspect(component)?;
    let layer = digest(component);
    let config = serde_json::to_vec(&WasmConfig {
        created: jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())?.to_string(),
        author: None,
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer.clone()],
        component: Some(ComponentInfo {
            exports: report.exports.iter().map(|(name, _)| name.clone()).collect(),
            imports: report.imports.iter().map(|(name, _)| name.clone()).collect(),
            target: None,
        }),
    })?;
    let mut annotations = BTreeMap::new();
    if let Some(signed) = router_plugin_kit::signature::read(component)? {
        let c = signed.claims;
        for (key, value) in [
            ("org.opencontainers.image.title", c.name),
            ("org.opencontainers.image.version", c.version),
            ("org.opencontainers.image.vendor", c.vendor),
        ] {
            if let Some(value) = value {
                annotations.insert(key.to_string(), value);
            }
        }
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.into()),
        config: Descriptor {
            media_type: CONFIG_MEDIA_TYPE.into(),
            digest: digest(&config),
            size: config.len() as u64,
        },
        layers: vec![Descriptor {
            media_type: LAYER_MEDIA_TYPE.into(),
            digest: layer,
            size: component.len() as u64,
        }],
        annotations,
    };
    Ok((config, serde_json::to_vec(&manifest)?))
}
