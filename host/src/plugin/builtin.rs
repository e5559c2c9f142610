//! The first-party plugins compiled into the binary (host/build.rs embeds them): the five
//! vendor normalizers, normalize-json, drop-unmatched, redact and decide-roster. They are
//! the same WASM components as `target/plugins/*.wasm` and run exactly like a plugin from a
//! file — sandboxed, with the same limits — so a packaged router needs no plugin files.
//!
//! A plugin's location is a file path or `builtin:<name>`; [`read`] is the one place that
//! turns either into bytes, so loading, reload digests and cluster publishing agree.

use super::PluginKind;
use std::borrow::Cow;
use std::path::Path;

/// What every first-party plugin is, whether or not this build carries its component.
pub struct Builtin {
    /// Its name: `builtin = "<name>"`.
    pub name: &'static str,
    /// The world it implements.
    pub kind: PluginKind,
    /// One line for `switchyard plugin list` and `switchyard init`.
    pub summary: &'static str,
}

/// Every first-party plugin, in the order `plugin list` shows them.
pub const FIRST_PARTY: &[Builtin] = &[
    Builtin {
        name: "normalize-findface",
        kind: PluginKind::Normalizer,
        summary: "FindFace Multi / Security webhooks (arrays of face, body and car events)",
    },
    Builtin {
        name: "normalize-omni",
        kind: PluginKind::Normalizer,
        summary: "3DiVi OMNI Platform webhooks and its websocket event feed",
    },
    Builtin {
        name: "normalize-sensenebula",
        kind: PluginKind::Normalizer,
        summary: "SenseNebula Pass push events and remote-auth door requests",
    },
    Builtin {
        name: "normalize-noahface",
        kind: PluginKind::Normalizer,
        summary: "NoahFace access and attendance events, with its sync replies",
    },
    Builtin {
        name: "normalize-preservica",
        kind: PluginKind::Normalizer,
        summary: "Preservica HMAC-signed webhooks, challenge handshake included",
    },
    Builtin {
        name: "normalize-json",
        kind: PluginKind::Normalizer,
        summary: "Plain JSON (an object or an array of them), fields mapped by dotted paths in settings",
    },
    Builtin {
        name: "drop-unmatched",
        kind: PluginKind::Filter,
        summary: "Keeps only recognitions that matched someone (settings: min_score, drop_unknown)",
    },
    Builtin {
        name: "redact",
        kind: PluginKind::Transform,
        summary: "Masks or removes sensitive fields (document numbers, URL credentials) before delivery",
    },
    Builtin {
        name: "decide-roster",
        kind: PluginKind::Decider,
        summary: "Door decisions from the operator's roster file (people, groups, weekly time windows)",
    },
];

/// The components this binary carries: (name, bytes).
static EMBEDDED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The prefix of a built-in plugin's location (`path = "builtin:redact"` is allowed too).
pub const SCHEME: &str = "builtin:";

/// The description of a first-party plugin, by name.
pub fn describe(name: &str) -> Option<&'static Builtin> {
    FIRST_PARTY.iter().find(|b| b.name == name)
}

/// The component of a built-in plugin, if this binary carries it.
pub fn component(name: &str) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// The names of the built-in plugins this binary carries.
pub fn carried() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(name, _)| *name)
}

/// The built-in name a location refers to (`builtin:<name>`), if it is one.
pub fn name_of(location: &Path) -> Option<&str> {
    location.to_str()?.strip_prefix(SCHEME)
}

/// Why `name` cannot be used as a built-in plugin, or `None` when it can.
pub fn problem(name: &str) -> Option<String> {
    if component(name).is_some() {
        return None;
    }
    if describe(name).is_some() {
        return Some(format!(
            "this switchyard was built without the built-in plugin `{name}` (build the plugins first: \
             `make build` does both); or give its `path`"
        ));
    }
    let known: Vec<&str> = FIRST_PARTY.iter().map(|b| b.name).collect();
    Some(format!(
        "unknown built-in plugin `{name}`; the built-in plugins are {}",
        known.join(", ")
    ))
}

/// The bytes of a plugin component: a file, or the embedded component for `builtin:<name>`.
pub fn read(location: &Path) -> std::io::Result<Cow<'static, [u8]>> {
    match name_of(location) {
        Some(name) => component(name)
            .map(Cow::Borrowed)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, problem(name).unwrap_or_default())),
        None => std::fs::read(location).map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_component_is_described() {
        for name in carried() {
            assert!(describe(name).is_some(), "{name} is embedded but not in FIRST_PARTY");
        }
    }

    #[test]
    fn build_script_embeds_the_first_party_list() {
        let script = include_str!("../../build.rs");
        for b in FIRST_PARTY {
            assert!(
                script.contains(&format!("\"{}\",", b.name)),
                "build.rs does not embed {}",
                b.name
            );
        }
    }

    #[test]
    fn locations() {
        assert_eq!(name_of(Path::new("builtin:redact")), Some("redact"));
        assert_eq!(name_of(Path::new("/x/redact.wasm")), None);
        assert!(problem("nope").unwrap().contains("unknown built-in plugin `nope`"));
        let err = read(Path::new("builtin:nope")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
