//! Ed25519 keys on disk: the private key as PKCS#8 PEM (what `openssl genpkey -algorithm
//! ed25519` writes too), the public key as one line `ed25519:<base64>` (what router.toml's
//! `[trust] keys` take inline) or as SPKI PEM (`openssl pkey -pubout`).

use super::B64;
use anyhow::{Context, bail};
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow.
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// An ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// From the 32 key bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<PublicKey> {
        Ok(PublicKey(bytes.try_into().map_err(|_| {
            anyhow::anyhow!("an ed25519 public key is 32 bytes, not {}", bytes.len())
        })?))
    }

    /// The 32 key bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A short name for messages and listings: `SHA256:` and the first 16 hex digits of the
    /// key's SHA-256.
    pub fn fingerprint(&self) -> String {
        let hash = Sha256::digest(self.0);
        format!("SHA256:{}", super::hex(&hash[..8]))
    }

    /// Reads a public key file: one line `ed25519:<base64>`, or SPKI PEM.
    pub fn load(path: &Path) -> anyhow::Result<PublicKey> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN") {
            let der = pem(text, "PUBLIC KEY")?;
            match der.strip_prefix(SPKI_PREFIX.as_slice()) {
                Some(bytes) => PublicKey::from_bytes(bytes),
                None => Err(anyhow::anyhow!("the PEM public key is not an ed25519 key")),
            }
        } else {
            text.parse()
        };
        key.with_context(|| format!("{} holds no ed25519 public key", path.display()))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", B64.encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl FromStr for PublicKey {
    type Err = anyhow::Error;
    fn from_str(text: &str) -> anyhow::Result<PublicKey> {
        let Some(b64) = text.trim().strip_prefix("ed25519:") else {
            bail!("a public key is written `ed25519:<base64 of 32 bytes>` (as `switchyard plugin keygen` writes it)");
        };
        PublicKey::from_bytes(&B64.decode(b64).context("the public key is not base64")?)
    }
}

/// An ed25519 private key (PKCS#8). Never printed: `Debug` shows its public half only.
pub struct PrivateKey {
    pkcs8: Vec<u8>,
    public: PublicKey,
}

impl PrivateKey {
    /// A new random key.
    pub fn generate() -> anyhow::Result<PrivateKey> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| anyhow::anyhow!("no randomness for a key"))?;
        PrivateKey::from_pkcs8(pkcs8.as_ref().to_vec())
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> anyhow::Result<PrivateKey> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
            .map_err(|e| anyhow::anyhow!("not an ed25519 private key ({e})"))?;
        let public = PublicKey::from_bytes(pair.public_key().as_ref())?;
        Ok(PrivateKey { pkcs8, public })
    }

    /// Reads a PKCS#8 PEM private key file.
    pub fn load(path: &Path) -> anyhow::Result<PrivateKey> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        pem(&text, "PRIVATE KEY")
            .and_then(PrivateKey::from_pkcs8)
            .with_context(|| format!("{} holds no ed25519 private key", path.display()))
    }

    /// The key as PKCS#8 PEM.
    pub fn to_pem(&self) -> String {
        let b64 = B64.encode(&self.pkcs8);
        let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END PRIVATE KEY-----\n");
        out
    }

    /// Its public half.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    pub(super) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(public {})", self.public.fingerprint())
    }
}

/// The DER inside a PEM block labelled `label`.
fn pem(text: &str, label: &str) -> anyhow::Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).with_context(|| format!("no `{begin}` block"))? + begin.len();
    let stop = text[start..].find(&end).with_context(|| format!("no `{end}` line"))? + start;
    let b64: String = text[start..stop].split_whitespace().collect();
    B64.decode(b64).context("the PEM block is not base64")
}

#[cfg(test)]
pub(super) fn tests_spki_prefix() -> [u8; 12] {
    SPKI_PREFIX
}
