//! `oci://registry[:port]/repository[:tag][@sha256:<hex>]`.

use std::fmt;
use std::str::FromStr;

/// A module in a registry: by tag, by digest, or both (the digest wins; the tag is a label).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `host` or `host:port`.
    pub registry: String,
    /// `vendor/normalize-acme` (lowercase, `/`-separated).
    pub repository: String,
    /// `1.4.0`.
    pub tag: Option<String>,
    /// `sha256:<64 hex>` of the manifest.
    pub digest: Option<String>,
}

impl Reference {
    /// What a manifest request names: the digest when pinned, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// This reference pinned to `digest`.
    pub fn pinned(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// Plain HTTP for registries on loopback (a local registry, tests), HTTPS for the rest —
    /// as Docker and ORAS treat `localhost`.
    pub fn base_url(&self) -> String {
        let host = self.registry.rsplit_once(':').map_or(self.registry.as_str(), |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                self.registry.as_str()
            }
        });
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        format!("{}://{}", if loopback { "http" } else { "https" }, self.registry)
    }
}

fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

impl FromStr for Reference {
    type Err = String;
    fn from_str(text: &str) -> Result<Reference, String> {
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| format!("`{text}` is not an OCI reference (oci://registry/repository:tag@sha256:…)"))?;
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) if valid_digest(d) => (r, Some(d.to_string())),
            Some((_, d)) => return Err(format!("`{d}` is not a digest (sha256: and 64 lowercase hex digits)")),
            None => (rest, None),
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| format!("`{text}` names no repository (oci://registry/repository:tag)"))?;
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !repo.contains(':') => (repo, Some(tag.to_string())),
            _ => (path, None),
        };
        if registry.is_empty() || repository.is_empty() {
            return Err(format!("`{text}` needs a registry and a repository"));
        }
        if !repository.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        }) {
            return Err(format!(
                "repository `{repository}`: lowercase letters, digits, `.`, `_`, `-`, segments separated by `/`"
            ));
        }
        if let Some(tag) = &tag
            && (tag.is_empty()
                || tag.len() > 128
                || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
        {
            return Err(format!("tag `{tag}`: up to 128 letters, digits, `.`, `_`, `-`"));
        }
        if tag.is_none() && digest.is_none() {
            return Err(format!(
                "`{text}` names neither a tag nor a digest (…:1.4.0, …@sha256:…)"
            ));
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print_back() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        for text in [
            "oci://127.0.0.1:5000/acme/normalize-acme:1.4.0".to_string(),
            format!("oci://ghcr.io/acme/normalize-acme:1.4.0@{digest}"),
            format!("oci://localhost/n@{digest}"),
        ] {
            let r: Reference = text.parse().unwrap();
            assert_eq!(r.to_string(), text);
        }
        let r: Reference = "oci://127.0.0.1:5000/acme/n:v1".parse().unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "acme/n", Some("v1"))
        );
        assert_eq!(r.base_url(), "http://127.0.0.1:5000");
        assert_eq!(
            "oci://ghcr.io/a/b:1".parse::<Reference>().unwrap().base_url(),
            "https://ghcr.io"
        );
        for bad in [
            "ghcr.io/a:1",
            "oci://ghcr.io/a",
            "oci://ghcr.io/A:1",
            "oci://ghcr.io/a@sha256:12",
            "oci:///a:1",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
    }
}
