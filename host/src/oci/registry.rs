//! The OCI distribution API, as much of it as pushing and pulling one component needs: blob
//! uploads (monolithic), manifests by tag or digest, and the two auth schemes registries use —
//! Basic, and Bearer tokens from the registry's token service (`WWW-Authenticate: Bearer
//! realm=…,service=…,scope=…`).

use super::artifact::{self, Manifest};
use super::reference::Reference;
use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Manifests are small; a component can be tens of MB (Python).
const MAX_MANIFEST_BYTES: usize = 4 << 20;
const MAX_COMPONENT_BYTES: usize = 512 << 20;
const TIMEOUT: Duration = Duration::from_secs(120);

/// Registry credentials: `SWITCHYARD_REGISTRY_USERNAME` + `SWITCHYARD_REGISTRY_PASSWORD`, else
/// the registry's entry in a Docker-style auth file (`SWITCHYARD_REGISTRY_AUTH_FILE`, else
/// `~/.docker/config.json`, as `docker login` and `oras login` write it).
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, password hidden)", self.username)
    }
}

impl Credentials {
    /// The credentials for `registry`, if any are configured.
    pub fn for_registry(registry: &str) -> anyhow::Result<Option<Credentials>> {
        if let (Ok(username), Ok(password)) = (
            std::env::var("SWITCHYARD_REGISTRY_USERNAME"),
            std::env::var("SWITCHYARD_REGISTRY_PASSWORD"),
        ) {
            return Ok(Some(Credentials { username, password }));
        }
        let file = match std::env::var_os("SWITCHYARD_REGISTRY_AUTH_FILE") {
            Some(file) => std::path::PathBuf::from(file),
            None => match std::env::var_os("HOME") {
                Some(home) => std::path::Path::new(&home).join(".docker/config.json"),
                None => return Ok(None),
            },
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            return Ok(None);
        };
        let config: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
        let Some(entry) = config["auths"]
            .as_object()
            .and_then(|auths| {
                auths
                    .iter()
                    .find(|(host, _)| host.trim_start_matches("https://").trim_end_matches('/') == registry)
            })
            .map(|(_, entry)| entry)
        else {
            return Ok(None);
        };
        if let Some(auth) = entry["auth"].as_str() {
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .with_context(|| format!("{}: `auth` of {registry} is not base64", file.display()))?;
            let decoded = String::from_utf8(decoded).unwrap_or_default();
            if let Some((username, password)) = decoded.split_once(':') {
                return Ok(Some(Credentials {
                    username: username.into(),
                    password: password.into(),
                }));
            }
        }
        Ok(match (entry["username"].as_str(), entry["password"].as_str()) {
            (Some(u), Some(p)) => Some(Credentials {
                username: u.into(),
                password: p.into(),
            }),
            _ => None,
        })
    }

    fn basic(&self) -> String {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// A client for one registry.
pub struct Registry {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    credentials: Option<Credentials>,
    /// The `Authorization` value that last worked (a Bearer token, or Basic).
    authorization: tokio::sync::Mutex<Option<String>>,
}

/// What a pull brought: the manifest's digest and the component's bytes (both verified).
pub struct Pulled {
    /// `sha256:…` of the manifest.
    pub manifest_digest: String,
    /// The manifest's bytes.
    pub manifest: Vec<u8>,
    /// The component.
    pub component: Vec<u8>,
}

impl Registry {
    /// A client with the machine's credentials for `registry` and rustls (public roots, plus
    /// `SWITCHYARD_REGISTRY_CA_FILE` for a private registry's CA).
    pub fn new(registry: &str) -> anyhow::Result<Registry> {
        let tls = crate::tls::client_config(&crate::tls::TlsOptions {
            ca: std::env::var_os("SWITCHYARD_REGISTRY_CA_FILE").map(Into::into),
            insecure: false,
        })?;
        Ok(Registry {
            client: Client::builder(TokioExecutor::new()).build(crate::tls::connector(tls, Duration::from_secs(10))),
            credentials: Credentials::for_registry(registry)?,
            authorization: tokio::sync::Mutex::new(None),
        })
    }

    /// Pushes `component` as `reference` (its tag, or its digest when it names only one);
    /// returns the manifest's digest, to pin.
    pub async fn push(&self, reference: &Reference, component: &[u8]) -> anyhow::Result<String> {
        let (config, manifest) = artifact::package(component)?;
        for blob in [&config[..], component] {
            self.upload(reference, blob).await?;
        }
        let digest = artifact::digest(&manifest);
        let target = reference.tag.clone().unwrap_or_else(|| digest.clone());
        let url = format!(
            "{}/v2/{}/manifests/{target}",
            reference.base_url(),
            reference.repository
        );
        let answer = self
            .send(
                Method::PUT,
                &url,
                &[("content-type", artifact::MANIFEST_MEDIA_TYPE)],
                Bytes::from(manifest),
                MAX_MANIFEST_BYTES,
            )
            .await?;
        expect(&answer, &[StatusCode::CREATED, StatusCode::OK], "storing the manifest")?;
        Ok(digest)
    }

    async fn upload(&self, reference: &Reference, blob: &[u8]) -> anyhow::Result<()> {
        let digest = artifact::digest(blob);
        let base = format!("{}/v2/{}", reference.base_url(), reference.repository);
        let head = self
            .send(Method::HEAD, &format!("{base}/blobs/{digest}"), &[], Bytes::new(), 0)
            .await?;
        if head.0 == StatusCode::OK {
            return Ok(());
        }
        let start = self
            .send(
                Method::POST,
                &format!("{base}/blobs/uploads/"),
                &[],
                Bytes::new(),
                1 << 16,
            )
            .await?;
        expect(&start, &[StatusCode::ACCEPTED], "starting a blob upload")?;
        let location = start
            .1
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("the registry started an upload without a Location")?;
        let location = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", reference.base_url())
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = self
            .send(
                Method::PUT,
                &format!("{location}{separator}digest={digest}"),
                &[("content-type", "application/octet-stream")],
                Bytes::copy_from_slice(blob),
                1 << 16,
            )
            .await?;
        expect(&put, &[StatusCode::CREATED], "uploading a blob")
    }

    /// Pulls `reference`: the manifest (checked against the reference's digest when it has
    /// one) and its component layer (checked against the manifest's digest for it).
    pub async fn pull(&self, reference: &Reference) -> anyhow::Result<Pulled> {
        let base = format!("{}/v2/{}", reference.base_url(), reference.repository);
        let accept = format!(
            "{}, application/vnd.oci.artifact.manifest.v1+json",
            artifact::MANIFEST_MEDIA_TYPE
        );
        let answer = self
            .send(
                Method::GET,
                &format!("{base}/manifests/{}", reference.manifest_ref()),
                &[("accept", &accept)],
                Bytes::new(),
                MAX_MANIFEST_BYTES,
            )
            .await?;
        expect(
            &answer,
            &[StatusCode::OK],
            &format!("fetching the manifest of {reference}"),
        )?;
        let manifest_bytes = answer.2.to_vec();
        let manifest_digest = artifact::digest(&manifest_bytes);
        if let Some(pinned) = &reference.digest
            && *pinned != manifest_digest
        {
            bail!("digest mismatch: {reference} pins {pinned}, the registry's manifest is {manifest_digest}");
        }
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .with_context(|| format!("the manifest of {reference} is not an OCI image manifest"))?;
        let layer = manifest.component().map_err(|e| anyhow::anyhow!("{reference}: {e}"))?;
        let mut url = format!("{base}/blobs/{}", layer.digest);
        // Registries may redirect blob reads to their storage.
        for _ in 0..3 {
            let answer = self
                .send(Method::GET, &url, &[], Bytes::new(), MAX_COMPONENT_BYTES)
                .await?;
            if answer.0.is_redirection()
                && let Some(to) = answer.1.get(hyper::header::LOCATION).and_then(|v| v.to_str().ok())
            {
                url = to.to_string();
                continue;
            }
            expect(
                &answer,
                &[StatusCode::OK],
                &format!("fetching the component of {reference}"),
            )?;
            let component = answer.2.to_vec();
            if artifact::digest(&component) != layer.digest {
                bail!(
                    "digest mismatch: the component of {reference} should be {}, the registry sent {}",
                    layer.digest,
                    artifact::digest(&component)
                );
            }
            return Ok(Pulled {
                manifest_digest,
                manifest: manifest_bytes,
                component,
            });
        }
        bail!("{reference}: too many redirects fetching the component")
    }

    /// One request, authenticated as the registry asks (a 401 names the scheme; the answer is
    /// retried once with credentials or a token).
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        limit: usize,
    ) -> anyhow::Result<(StatusCode, hyper::HeaderMap, Bytes)> {
        let mut auth = self.authorization.lock().await;
        let mut challenged = false;
        loop {
            let mut request = Request::builder().method(method.clone()).uri(url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(value) = auth.as_deref() {
                request = request.header(hyper::header::AUTHORIZATION, value);
            }
            let request = request
                .body(Full::new(body.clone()))
                .context("building a registry request")?;
            let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
                .await
                .map_err(|_| anyhow::anyhow!("{method} {url}: no answer within {TIMEOUT:?}"))?
                .map_err(|e| anyhow::anyhow!("{method} {url}: {}", crate::telemetry::one_line(&format!("{e:#}"))))?;
            let (parts, incoming) = response.into_parts();
            let bytes = crate::body::read_capped(incoming, limit.max(1 << 16))
                .await
                .map_err(|e| anyhow::anyhow!("{method} {url}: {e}"))?;
            if parts.status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = parts
                    .headers
                    .get(hyper::header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                *auth = Some(self.answer(&challenge).await?);
                continue;
            }
            return Ok((parts.status, parts.headers, bytes));
        }
    }

    /// The `Authorization` value for a `WWW-Authenticate` challenge.
    async fn answer(&self, challenge: &str) -> anyhow::Result<String> {
        let creds = self.credentials.as_ref();
        if challenge.to_ascii_lowercase().starts_with("basic") {
            return creds
                .map(Credentials::basic)
                .context("the registry asks for a login: set SWITCHYARD_REGISTRY_USERNAME and SWITCHYARD_REGISTRY_PASSWORD (or an auth file)");
        }
        let params = bearer_params(challenge)
            .context("the registry answered 401 without a usable WWW-Authenticate challenge")?;
        let realm = params
            .get("realm")
            .context("the registry's Bearer challenge names no realm")?;
        let mut url = realm.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for key in ["service", "scope"] {
            if let Some(value) = params.get(key) {
                url.push(sep);
                url.push_str(&format!("{key}={}", urlencode(value)));
                sep = '&';
            }
        }
        let mut request = Request::builder().method(Method::GET).uri(&url);
        if let Some(creds) = creds {
            request = request.header(hyper::header::AUTHORIZATION, creds.basic());
        }
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request.body(Full::new(Bytes::new()))?))
            .await
            .map_err(|_| anyhow::anyhow!("token service {realm}: no answer"))??;
        let status = response.status();
        let bytes = crate::body::read_capped(response.into_body(), 1 << 20)
            .await
            .map_err(|e| anyhow::anyhow!("token service {realm}: {e}"))?;
        if !status.is_success() {
            bail!(
                "token service {realm} refused: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let token: serde_json::Value =
            serde_json::from_slice(&bytes).context("the token service's answer is not JSON")?;
        let token = token["token"]
            .as_str()
            .or(token["access_token"].as_str())
            .context("the token service's answer has no token")?;
        Ok(format!("Bearer {token}"))
    }
}

fn expect(answer: &(StatusCode, hyper::HeaderMap, Bytes), ok: &[StatusCode], what: &str) -> anyhow::Result<()> {
    if ok.contains(&answer.0) {
        return Ok(());
    }
    let body = String::from_utf8_lossy(&answer.2);
    let body: String = body.chars().take(300).collect();
    bail!("{what}: the registry answered {} {}", answer.0, body.trim())
}

/// `Bearer realm="…",service="…",scope="…"` → its parameters.
fn bearer_params(challenge: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let rest = challenge
        .trim()
        .strip_prefix("Bearer")
        .or_else(|| challenge.trim().strip_prefix("bearer"))?;
    let mut params = std::collections::BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(',').map_or((after, ""), |(v, t)| (v, t))
        };
        params.insert(key.trim().trim_start_matches(',').trim().to_string(), value.to_string());
        rest = tail.trim_start_matches([',', ' ']);
    }
    Some(params)
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse() {
        let p = bearer_params(r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/n:pull,push""#)
            .unwrap();
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:acme/n:pull,push");
        assert_eq!(urlencode("repository:acme/n:pull"), "repository%3Aacme%2Fn%3Apull");
        assert!(bearer_params("Basic realm=x").is_none());
    }
}
