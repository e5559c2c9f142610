//! Whose plugins run: a component's embedded signature (`router_plugin_kit::signature`)
//! checked against the operator's `[trust]` before the component is compiled.
//!
//! The rule for one plugin: a signature that is present must hold (its digest, its
//! signature, its expiry) whether or not one is required — a signed file that was changed is
//! never loaded; when one is required (`[trust] require_signature`, the plugin's
//! `require_signature` or `signers`), it must come from a trusted key, and from one of the
//! plugin's `signers` when it names some. Built-in plugins are part of the binary and are not
//! checked.

use router_plugin_kit::signature::{self, Claims, PublicKey};
use std::path::PathBuf;

/// A key the operator trusts: `[trust] keys = [{ id, public_key | public_key_file }]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedKey {
    /// The operator's name for it (what `signers` lists and the status shows).
    pub id: String,
    /// The key, or the file it is read from when the pipeline is built.
    pub key: KeySource,
}

/// Where a trusted key comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// Written in router.toml (`ed25519:<base64>`).
    Inline(PublicKey),
    /// A file (`ed25519:<base64>` or SPKI PEM), read on every build and reload.
    File(PathBuf),
}

/// What one plugin's signature must satisfy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignatureRule {
    /// Unsigned, or signed by a key not in `keys`, is refused.
    pub required: bool,
    /// Every trusted key.
    pub keys: Vec<TrustedKey>,
    /// The ids of `keys` allowed to sign this plugin (`None`: any of them).
    pub signers: Option<Vec<String>>,
}

/// Who signed a loaded plugin, for status, metrics and logs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Signer {
    /// The signing key's fingerprint (`SHA256:…`).
    pub fingerprint: String,
    /// The `[trust]` id of the key, when it is a trusted one.
    pub trusted_as: Option<String>,
    /// What the signer says of the plugin.
    pub claims: Claims,
}

impl SignatureRule {
    /// Checks `wasm`'s signature against this rule at `now`: `Ok(None)` for an unsigned
    /// plugin the rule lets through, `Err` with the reason (it starts with what went wrong:
    /// unsigned, unknown signer, bad signature, expired, digest mismatch…).
    pub fn check(&self, wasm: &[u8], now: jiff::Timestamp) -> Result<Option<Signer>, String> {
        let signed = signature::read(wasm).map_err(|e| format!("unreadable signature: {e:#}"))?;
        let Some(signed) = signed else {
            return if self.required {
                Err(
                    "unsigned: this plugin must be signed by a trusted key (`require_signature` or `signers`); \
                     sign it with `switchyard plugin sign`"
                        .into(),
                )
            } else {
                Ok(None)
            };
        };
        match signed.check(wasm).map_err(|e| format!("unreadable component: {e:#}"))? {
            Ok(()) => {}
            Err(broken) => return Err(broken.to_string()),
        }
        match signed.claims.expires_at() {
            Ok(Some(at)) if at <= now => {
                return Err(format!(
                    "expired: its signature's claims expired at {at} (signed by {})",
                    signed.signer.fingerprint()
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("bad signature: {e:#}")),
        }
        let fingerprint = signed.signer.fingerprint();
        let mut trusted_as = None;
        for trusted in &self.keys {
            if trusted.public_key()? == signed.signer {
                trusted_as = Some(trusted.id.clone());
                break;
            }
        }
        match (&trusted_as, &self.signers) {
            (None, _) if self.required => Err(format!(
                "unknown signer: signed by {fingerprint} ({}), which is not among the `[trust] keys`",
                signed.signer
            )),
            (Some(id), Some(allowed)) if !allowed.contains(id) => Err(format!(
                "signer not allowed: signed by `{id}` ({fingerprint}), but this plugin's `signers` are {}",
                allowed.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            )),
            _ => Ok(Some(Signer {
                fingerprint,
                trusted_as,
                claims: signed.claims,
            })),
        }
    }
}

impl TrustedKey {
    /// The key, read from its file when it has one.
    fn public_key(&self) -> Result<PublicKey, String> {
        match &self.key {
            KeySource::Inline(key) => Ok(*key),
            KeySource::File(path) => PublicKey::load(path).map_err(|e| format!("trust key `{}`: {e:#}", self.id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use router_plugin_kit::signature::{PrivateKey, sign};

    const COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn now() -> jiff::Timestamp {
        "2026-12-04T10:00:00Z".parse().unwrap()
    }

    fn signed_by(key: &PrivateKey, claims: &str) -> Vec<u8> {
        sign(COMPONENT, key, Claims::parse(claims, now()).unwrap()).unwrap()
    }

    fn rule(required: bool, keys: &[(&str, &PrivateKey)], signers: Option<&[&str]>) -> SignatureRule {
        SignatureRule {
            required,
            keys: keys
                .iter()
                .map(|(id, k)| TrustedKey {
                    id: id.to_string(),
                    key: KeySource::Inline(k.public()),
                })
                .collect(),
            signers: signers.map(|s| s.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn each_reason_to_refuse_is_named() {
        let acme = PrivateKey::generate().unwrap();
        let ops = PrivateKey::generate().unwrap();
        let stranger = PrivateKey::generate().unwrap();
        let required = rule(true, &[("acme", &acme), ("ops", &ops)], None);
        let reason = |rule: &SignatureRule, wasm: &[u8]| rule.check(wasm, now()).unwrap_err();

        assert!(reason(&required, COMPONENT).starts_with("unsigned"));
        assert!(reason(&required, &signed_by(&stranger, "")).starts_with("unknown signer"));
        assert!(reason(&required, &signed_by(&acme, "expires=2026-12-03")).starts_with("expired"));
        let mut tampered = signed_by(&acme, "");
        tampered[5] ^= 1;
        assert!(reason(&required, &tampered).starts_with("digest mismatch"));
        let only_ops = rule(true, &[("acme", &acme), ("ops", &ops)], Some(&["ops"]));
        assert!(reason(&only_ops, &signed_by(&acme, "")).starts_with("signer not allowed"));

        let ok = required
            .check(&signed_by(&acme, "name=x,expires=2027-01-01"), now())
            .unwrap()
            .unwrap();
        assert_eq!(ok.trusted_as.as_deref(), Some("acme"));
        assert_eq!(ok.fingerprint, acme.public().fingerprint());
        assert_eq!(ok.claims.name.as_deref(), Some("x"));
    }

    #[test]
    fn without_a_requirement_unsigned_and_unknown_pass_but_broken_never_does() {
        let acme = PrivateKey::generate().unwrap();
        let lenient = rule(false, &[], None);
        assert_eq!(lenient.check(COMPONENT, now()), Ok(None));
        let signed = lenient.check(&signed_by(&acme, ""), now()).unwrap().unwrap();
        assert_eq!(signed.trusted_as, None);
        assert!(
            lenient
                .check(&signed_by(&acme, "expires=2020-01-01"), now())
                .unwrap_err()
                .starts_with("expired")
        );
    }
}
