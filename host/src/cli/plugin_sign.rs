//! `plugin keygen` and `plugin sign`: a vendor's ed25519 key pair, and its signature embedded
//! in a component (see `router_plugin_kit::signature` for the format and why it is embedded),
//! plus the signature lines of `plugin inspect`.

use crate::plugin::trust::SignatureRule;
use anyhow::{Context, bail};
use router_plugin_kit::signature::{self, Claims, PrivateKey};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `plugin keygen NAME [--dir D]`: writes `D/NAME.pem` (the private key, PKCS#8, readable by
/// this user alone; never printed) and `D/NAME.pub` (`ed25519:<base64>`); an existing key is
/// never overwritten. Returns what to tell the user, with the `[trust]` line for routers.
pub fn plugin_keygen(name: &str, dir: Option<&Path>) -> anyhow::Result<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("a key name is letters, digits, `-` and `_` (it names the files NAME.pem and NAME.pub)");
    }
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub"));
    for path in [&private, &public] {
        if path.exists() {
            bail!(
                "{} exists; a key is never overwritten (remove it first, or pick another name)",
                path.display()
            );
        }
    }
    let key = PrivateKey::generate()?;
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    let mut file = file
        .open(&private)
        .with_context(|| format!("creating {}", private.display()))?;
    file.write_all(key.to_pem().as_bytes())?;
    file.sync_all()?;
    std::fs::write(&public, format!("{}\n", key.public())).with_context(|| format!("writing {}", public.display()))?;
    Ok(format!(
        "private key: {} (keep it secret: it signs for you)\n\
         public key:  {}\n\
         fingerprint: {}\n\n\
         Routers that trust this key add to router.toml:\n\n\
         [trust]\nkeys = [{{ id = \"{name}\", public_key = \"{}\" }}]\n",
        private.display(),
        public.display(),
        key.public().fingerprint(),
        key.public()
    ))
}

/// `plugin sign COMPONENT --key K [--claims …] [-o OUT]`: embeds the signature (replacing one
/// the component had) and writes OUT (default: the component, replaced atomically).
pub fn plugin_sign(component: &Path, key: &Path, claims: Option<&str>, out: Option<&Path>) -> anyhow::Result<String> {
    let key = PrivateKey::load(key)?;
    let wasm = std::fs::read(component).with_context(|| format!("reading {}", component.display()))?;
    let claims = Claims::parse(claims.unwrap_or(""), jiff::Timestamp::now())?;
    let note = claims_note(&claims);
    let signed = signature::sign(&wasm, &key, claims)?;
    let dest: PathBuf = out.unwrap_or(component).to_path_buf();
    router_plugin_kit::componentize::write_if_changed(&dest, &signed)?;
    Ok(format!(
        "signed {}\n{}{note}",
        dest.display(),
        signature_lines(&signed, None)?
    ))
}

fn claims_note(claims: &Claims) -> String {
    if claims.expires.is_none() {
        "note: no `expires` claim; a router trusts this build for as long as it trusts the key\n".into()
    } else {
        String::new()
    }
}

/// The `signature:` lines of `plugin inspect`: signer, claims, digest and whether it holds —
/// against `rule` (a router config's, for one plugin) when given, else on its own.
pub(super) fn signature_lines(wasm: &[u8], rule: Option<(&str, &SignatureRule)>) -> anyhow::Result<String> {
    let Some(signed) = signature::read(wasm)? else {
        let mut out = "signature: none (unsigned)\n".to_string();
        if let Some((id, rule)) = rule
            && let Err(reason) = rule.check(wasm, jiff::Timestamp::now())
        {
            out.push_str(&format!("trust:     REFUSED as `{id}` — {reason}\n"));
        }
        return Ok(out);
    };
    let mut out = format!(
        "signature: ed25519, signer {} ({})\n",
        signed.signer.fingerprint(),
        signed.signer
    );
    let c = &signed.claims;
    for (label, value) in [
        ("name", &c.name),
        ("version", &c.version),
        ("vendor", &c.vendor),
        ("expires", &c.expires),
    ] {
        if let Some(value) = value {
            out.push_str(&format!("  {label:<9}{value}\n"));
        }
    }
    out.push_str(&format!("  {:<9}{}\n", "signed", c.signed_at));
    out.push_str(&format!("  {:<9}{}\n", "digest", signed.digest));
    out.push_str(&match signed.check(wasm)? {
        Ok(()) => "  verifies: yes (the bytes are the ones signed)\n".to_string(),
        Err(broken) => format!("  verifies: NO — {broken}\n"),
    });
    if let Some((id, rule)) = rule {
        out.push_str(&match rule.check(wasm, jiff::Timestamp::now()) {
            Ok(Some(signer)) => match signer.trusted_as {
                Some(key) => format!("trust:     accepted as `{id}`: signed by trusted key `{key}`\n"),
                None => format!("trust:     accepted as `{id}` (signer not among the trusted keys; not required)\n"),
            },
            Ok(None) => format!("trust:     accepted as `{id}`\n"),
            Err(reason) => format!("trust:     REFUSED as `{id}` — {reason}\n"),
        });
    }
    Ok(out)
}
