//! `[trust]` and each plugin's `signers` / `require_signature`: which keys may sign the
//! plugins this router runs, compiled into one [`SignatureRule`] per plugin (checked by
//! `plugin::trust` before a component is compiled).
//!
//! ```toml
//! [trust]
//! require_signature = false      # true: every plugin from a file must be signed by a key below
//! keys = [
//!   { id = "acme", public_key = "ed25519:…" },          # as `switchyard plugin keygen` prints it
//!   { id = "ops", public_key_file = "keys/ops.pub" },   # or PEM; read on every (re)load
//! ]
//!
//! [plugins.normalize-acme]
//! path = "normalize-acme.wasm"
//! signers = ["acme"]             # only these keys (implies require_signature)
//! require_signature = true       # per plugin; overrides [trust]
//! ```

use super::ctx::Ctx;
use crate::plugin::trust::{KeySource, SignatureRule, TrustedKey};
use serde::Deserialize;
use std::collections::BTreeSet;
use toml::Spanned;

/// `[trust]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrust {
    pub(crate) require_signature: Option<bool>,
    #[serde(default)]
    pub(crate) keys: Vec<Spanned<RawTrustKey>>,
}

/// One trusted key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrustKey {
    pub(crate) id: Spanned<String>,
    pub(crate) public_key: Option<Spanned<String>>,
    pub(crate) public_key_file: Option<Spanned<String>>,
}

/// The trusted keys and the global requirement, checked once for the whole file.
pub(super) struct Trust {
    require_signature: bool,
    keys: Vec<TrustedKey>,
    /// Every id written, a broken key's too (so `signers` naming it is not a second error).
    declared: BTreeSet<String>,
}

pub(super) fn trust(cx: &mut Ctx<'_>, raw: Option<&Spanned<RawTrust>>) -> Trust {
    let Some(raw) = raw else {
        return Trust {
            require_signature: false,
            keys: Vec::new(),
            declared: BTreeSet::new(),
        };
    };
    let raw = raw.get_ref();
    let mut ids = BTreeSet::new();
    let mut keys = Vec::new();
    for key in &raw.keys {
        let k = key.get_ref();
        cx.id(&k.id, "trust key");
        if !ids.insert(k.id.get_ref().clone()) {
            cx.err(format!("duplicate trust key id `{}`", k.id.get_ref()), k.id.span());
        }
        let source = match (&k.public_key, &k.public_key_file) {
            (Some(inline), None) => match inline.get_ref().parse() {
                Ok(public) => KeySource::Inline(public),
                Err(e) => {
                    cx.err(format!("`public_key` of `{}`: {e:#}", k.id.get_ref()), inline.span());
                    continue;
                }
            },
            (None, Some(file)) => KeySource::File(cx.resolve(file.get_ref())),
            _ => {
                cx.err(
                    format!(
                        "trust key `{}` needs `public_key` (ed25519:…) or `public_key_file`, not both",
                        k.id.get_ref()
                    ),
                    key.span(),
                );
                continue;
            }
        };
        keys.push(TrustedKey {
            id: k.id.get_ref().clone(),
            key: source,
        });
    }
    Trust {
        require_signature: raw.require_signature.unwrap_or(false),
        keys,
        declared: ids,
    }
}

impl Trust {
    /// One plugin's rule: its `signers` must be trusted key ids; naming signers requires a
    /// signature unless the plugin says `require_signature = false`.
    pub(super) fn rule(
        &self,
        cx: &mut Ctx<'_>,
        signers: Option<&Spanned<Vec<Spanned<String>>>>,
        require_signature: Option<bool>,
    ) -> SignatureRule {
        let signers = signers.map(|signers| {
            for s in signers.get_ref() {
                if !self.declared.contains(s.get_ref()) {
                    let known: Vec<String> = self.declared.iter().map(|id| format!("`{id}`")).collect();
                    cx.err(
                        format!(
                            "signer `{}` is not a `[trust] keys` id (known: {})",
                            s.get_ref(),
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                        s.span(),
                    );
                }
            }
            signers
                .get_ref()
                .iter()
                .map(|s| s.get_ref().clone())
                .collect::<Vec<_>>()
        });
        SignatureRule {
            required: require_signature.unwrap_or(self.require_signature || signers.is_some()),
            keys: self.keys.clone(),
            signers,
        }
    }
}
