//! `switchyard plugin inspect`: what a component is — its kind, the `router:plugin` version it
//! was built against, what it exports and imports (WASI included), and its size — read from
//! the component's own type information, without running it.

use crate::Kind;
use anyhow::{Context, bail};
use std::fmt;

/// What a component imports and exports.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Size of the file.
    pub bytes: usize,
    /// The plugin kind its exports make it, if any.
    pub kind: Option<Kind>,
    /// Whether it exports `answer-api` (a normalizer for terminals waiting on a door decision).
    pub answers: bool,
    /// Whether it exports `setup-api` (settings checked at load: WIT 0.1.2 and later).
    pub validates_settings: bool,
    /// The `router:plugin` versions it names.
    pub abi: Vec<String>,
    /// Exported interfaces with their functions.
    pub exports: Vec<(String, Vec<String>)>,
    /// Imported interfaces with their functions.
    pub imports: Vec<(String, Vec<String>)>,
    /// The settings schema it carries (`plugin build` writes the project's `[settings]`).
    pub schema: Option<crate::schema::Schema>,
}

impl Report {
    /// Imported WASI interfaces (`wasi:…`): what the guest's language runtime links to. The
    /// router grants none of them anything (no files, network, environment or clock beyond
    /// what `host` gives); stdout and stderr go to the router's log.
    pub fn wasi(&self) -> Vec<&str> {
        self.imports
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|n| n.starts_with("wasi:"))
            .collect()
    }
}

/// Inspects a component's bytes.
pub fn inspect(bytes: &[u8]) -> anyhow::Result<Report> {
    if crate::componentize::is_core_module(bytes) {
        bail!(
            "this is a core wasm module, not a component: build it with `switchyard plugin build` (or turn it into one with `wasm-tools component new`)"
        );
    }
    let decoded = wit_component::decode(bytes).context("not a WebAssembly component")?;
    let resolve = decoded.resolve();
    let world = match &decoded {
        wit_component::DecodedWasm::Component(_, world) => &resolve.worlds[*world],
        wit_component::DecodedWasm::WitPackage(..) => bail!("this is a WIT package, not a component"),
    };
    let list = |items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
        let mut out: Vec<(String, Vec<String>)> = items
            .iter()
            .filter_map(|(key, item)| match item {
                wit_parser::WorldItem::Interface { id, .. } => Some((
                    resolve.id_of(*id).unwrap_or_else(|| resolve.name_world_key(key)),
                    resolve.interfaces[*id].functions.keys().cloned().collect(),
                )),
                wit_parser::WorldItem::Function(f) => Some((f.name.clone(), Vec::new())),
                wit_parser::WorldItem::Type { .. } => None,
            })
            .collect();
        out.sort();
        out
    };
    let exports = list(&world.exports);
    let imports = list(&world.imports);
    let exported = |interface: &str| {
        exports
            .iter()
            .any(|(name, _)| crate::wit::split_name(name).is_some_and(|(i, _)| i == interface))
    };
    let kind = Kind::ALL.into_iter().find(|k| exported(k.interface()));
    let abi = crate::wit::versions(exports.iter().chain(imports.iter()).map(|(name, _)| name.as_str()));
    Ok(Report {
        schema: crate::schema::read(bytes)?,
        bytes: bytes.len(),
        kind,
        answers: exported("answer-api"),
        validates_settings: exported("setup-api"),
        abi,
        exports,
        imports,
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match (self.kind, self.answers) {
            (Some(Kind::Normalizer), true) => {
                "normalizer (world access-normalizer: also renders door rulings)".to_string()
            }
            (Some(k), _) => format!("{} (world {})", k.as_str(), k.as_str()),
            (None, _) => "none: it exports no router:plugin interface".to_string(),
        };
        writeln!(f, "kind:      {kind}")?;
        let abi = if self.abi.is_empty() {
            "none".to_string()
        } else {
            self.abi
                .iter()
                .map(|v| format!("router:plugin@{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let supported = self.abi.iter().all(|v| crate::wit::is_supported(v));
        writeln!(
            f,
            "abi:       {abi}{}",
            if supported {
                ""
            } else {
                " — NOT supported by this router (it binds 0.1.x)"
            }
        )?;
        writeln!(
            f,
            "settings:  {}",
            if self.validates_settings {
                "checked at load (exports setup-api.validate-settings)"
            } else {
                "not checked at load (built before router:plugin 0.1.2: no setup-api)"
            }
        )?;
        match &self.schema {
            Some(schema) => write!(
                f,
                "schema:    settings checked by the router before the plugin runs:\n{schema}"
            )?,
            None => writeln!(f, "schema:    none (the router passes settings on unchecked)")?,
        }
        writeln!(f, "size:      {} bytes", self.bytes)?;
        writeln!(f, "exports:")?;
        for (name, funcs) in &self.exports {
            writeln!(f, "  {name}  {}", funcs.join(", "))?;
        }
        writeln!(f, "imports:")?;
        for (name, funcs) in self.imports.iter().filter(|(n, _)| !n.starts_with("wasi:")) {
            writeln!(f, "  {name}  {}", funcs.join(", "))?;
        }
        let wasi = self.wasi();
        if wasi.is_empty() {
            writeln!(f, "wasi:      none")?;
        } else {
            writeln!(
                f,
                "wasi:      {} interfaces (linked deny-all: no files, network or environment; stdout/stderr go to the router log)",
                wasi.len()
            )?;
            for name in wasi {
                writeln!(f, "  {name}")?;
            }
        }
        Ok(())
    }
}
