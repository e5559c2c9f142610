//! Signed components: who built a plugin, checked before the router compiles it.
//!
//! `plugin sign` embeds a custom section, `switchyard:signature`, in the component (so the
//! signed file is still the one file a vendor ships and a valid component), holding the
//! signer's ed25519 public key, the claims (name, version, vendor, expiry, when signed), the
//! SHA-256 digest of the component *without* that section, and the signature over
//! `switchyard-plugin-signature/1\n<digest>\n<claims JSON>`. A detached `.sig` file was the
//! other choice; embedded wins because a file copied, pushed to a registry or published to a
//! cluster cannot lose its signature on the way, and every other section (the settings
//! schema included) is covered.
//!
//! What a signature proves is decided by the router's `[trust]` policy (host side): this
//! module only reads, checks and writes signatures.

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;

pub mod keys;
pub use keys::{PrivateKey, PublicKey};

/// The custom section's name.
pub const SECTION: &str = "switchyard:signature";

/// The section's format version (the router lists it with its data formats).
pub const FORMAT: u32 = 1;

/// What the signer says of the component. Every member but `signed_at` is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The module's name (`normalize-acme`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its version (`1.4.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Who ships it (`Acme Devices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// After this instant (RFC 3339, UTC) the router refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
}

impl Claims {
    /// Claims from `name=…,version=…,vendor=…,expires=…` (`plugin sign --claims`); `expires`
    /// takes an RFC 3339 instant or a date (the end of that day, UTC).
    pub fn parse(text: &str, now: jiff::Timestamp) -> anyhow::Result<Claims> {
        let mut claims = Claims {
            // Whole seconds: a claim for people to read, not a clock.
            signed_at: jiff::Timestamp::from_second(now.as_second()).unwrap_or(now).to_string(),
            ..Claims::default()
        };
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                bail!("claim `{pair}` is not key=value (keys: name, version, vendor, expires)");
            };
            let value = value.trim().to_string();
            match key.trim() {
                "name" => claims.name = Some(value),
                "version" => claims.version = Some(value),
                "vendor" => claims.vendor = Some(value),
                "expires" => claims.expires = Some(expiry(&value)?.to_string()),
                other => bail!("unknown claim `{other}` (keys: name, version, vendor, expires)"),
            }
        }
        Ok(claims)
    }

    /// When the claims stop being valid, if they say.
    pub fn expires_at(&self) -> anyhow::Result<Option<jiff::Timestamp>> {
        self.expires
            .as_deref()
            .map(|e| {
                e.parse::<jiff::Timestamp>()
                    .with_context(|| format!("claim `expires` = {e:?}"))
            })
            .transpose()
    }
}

/// An RFC 3339 instant, or a date meaning the end of that day (UTC).
fn expiry(text: &str) -> anyhow::Result<jiff::Timestamp> {
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    let date: jiff::civil::Date = text
        .parse()
        .with_context(|| format!("`expires` = {text:?} is neither an RFC 3339 instant nor a date (2027-06-30)"))?;
    let end = date
        .at(23, 59, 59, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .with_context(|| format!("`expires` = {text:?}"))?;
    Ok(end.timestamp())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    format: u32,
    algorithm: String,
    public_key: String,
    digest: String,
    claims: Claims,
    signature: String,
}

/// A component's signature, as read (not yet checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// Who signed.
    pub signer: PublicKey,
    /// What the signer says.
    pub claims: Claims,
    /// `sha256:<hex>` of the component without its signature section, as signed.
    pub digest: String,
    bytes: Vec<u8>,
}

/// Why a signature does not hold (trust aside).
#[derive(Debug, Clone, PartialEq)]
pub enum Broken {
    /// The component's bytes are not the ones signed.
    DigestMismatch {
        /// What the signature says.
        signed: String,
        /// What the file holds.
        actual: String,
    },
    /// The signature does not verify with the key it names (claims or digest changed).
    BadSignature,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::DigestMismatch { signed, actual } => write!(
                f,
                "digest mismatch: the component was changed after it was signed (signed {signed}, file has {actual})"
            ),
            Broken::BadSignature => write!(f, "bad signature: it does not verify with the key it names"),
        }
    }
}

/// `sha256:<hex>` of the component without its signature section: what a signature covers.
pub fn digest(wasm: &[u8]) -> anyhow::Result<String> {
    let mut hash = Sha256::new();
    hash.update(wasm.get(..8).context("not a WebAssembly binary")?);
    for section in crate::section::without(wasm, SECTION)? {
        hash.update(section?);
    }
    Ok(format!("sha256:{}", hex(&hash.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn message(digest: &str, claims: &Claims) -> anyhow::Result<Vec<u8>> {
    let claims = serde_json::to_string(claims)?;
    Ok(format!("switchyard-plugin-signature/{FORMAT}\n{digest}\n{claims}").into_bytes())
}

/// The signature a component carries, if any (a malformed section is an error).
pub fn read(wasm: &[u8]) -> anyhow::Result<Option<Signature>> {
    let Some(payload) = crate::section::find(wasm, SECTION)? else {
        return Ok(None);
    };
    let section: Section = serde_json::from_slice(payload).context("its signature section is not valid")?;
    if section.format != FORMAT {
        bail!(
            "its signature section has format {}; this router reads format {FORMAT} (a newer switchyard signed it)",
            section.format
        );
    }
    if section.algorithm != "ed25519" {
        bail!(
            "its signature uses {:?}; this router verifies ed25519",
            section.algorithm
        );
    }
    Ok(Some(Signature {
        signer: section.public_key.parse().context("its signature's public key")?,
        claims: section.claims,
        digest: section.digest,
        bytes: B64.decode(&section.signature).context("its signature is not base64")?,
    }))
}

impl Signature {
    /// Whether the signature holds for `wasm` (the component it was read from).
    pub fn check(&self, wasm: &[u8]) -> anyhow::Result<Result<(), Broken>> {
        let actual = digest(wasm)?;
        if actual != self.digest {
            return Ok(Err(Broken::DigestMismatch {
                signed: self.digest.clone(),
                actual,
            }));
        }
        let key = UnparsedPublicKey::new(&ED25519, self.signer.bytes());
        Ok(match key.verify(&message(&self.digest, &self.claims)?, &self.bytes) {
            Ok(()) => Ok(()),
            Err(_) => Err(Broken::BadSignature),
        })
    }
}

/// `wasm` signed with `key` (a signature it had is replaced).
pub fn sign(wasm: &[u8], key: &PrivateKey, claims: Claims) -> anyhow::Result<Vec<u8>> {
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.pkcs8())
        .map_err(|e| anyhow::anyhow!("the private key is not an ed25519 key: {e}"))?;
    let digest = digest(wasm)?;
    let signature = pair.sign(&message(&digest, &claims)?);
    let signer = PublicKey::from_bytes(pair.public_key().as_ref())?;
    let section = Section {
        format: FORMAT,
        algorithm: "ed25519".into(),
        public_key: signer.to_string(),
        digest,
        claims,
        signature: B64.encode(signature.as_ref()),
    };
    crate::section::replace(wasm, SECTION, Some(&serde_json::to_vec(&section)?))
}

#[cfg(test)]
mod tests;
