//! `switchyard plugin list`: the plugins compiled into this binary, with what a config needs
//! to use them and what an auditor needs to pin them (ABI version, sha256).

use crate::plugin::builtin;
use serde::Serialize;

/// One built-in plugin, as listed.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// `builtin = "<name>"`.
    pub name: &'static str,
    /// normalizer | filter | transform | decider.
    pub kind: &'static str,
    /// The `router:plugin` versions it was built against.
    pub abi: Vec<String>,
    /// sha256 of the component.
    pub sha256: String,
    /// Size of the component in bytes.
    pub bytes: usize,
    /// What it is for.
    pub summary: &'static str,
}

/// Every built-in plugin this binary carries.
pub fn plugin_list() -> anyhow::Result<Vec<Listed>> {
    builtin::carried()
        .map(|name| {
            let bytes = builtin::component(name).expect("a carried plugin has a component");
            let report = router_plugin_kit::inspect::inspect(bytes)?;
            let about = builtin::describe(name).expect("every carried plugin is described");
            Ok(Listed {
                name,
                kind: about.kind.as_str(),
                abi: report.abi,
                sha256: crate::digest::sha256(bytes),
                bytes: bytes.len(),
                summary: about.summary,
            })
        })
        .collect()
}

/// The list as a table for people.
pub fn plugin_table(listed: &[Listed]) -> String {
    if listed.is_empty() {
        return "This switchyard carries no built-in plugins (it was built before `make plugins`).\n".to_string();
    }
    let mut out = format!(
        "{:<22} {:<10} {:<7} {:<14} {}\n",
        "NAME", "KIND", "ABI", "SHA256", "SUMMARY"
    );
    for l in listed {
        out.push_str(&format!(
            "{:<22} {:<10} {:<7} {:<14} {}\n",
            l.name,
            l.kind,
            l.abi.join(","),
            &l.sha256[..12],
            l.summary
        ));
    }
    out.push_str("\nUse one with `builtin = \"<name>\"` in a [plugins.<id>] table (kind is implied).\n");
    out
}
