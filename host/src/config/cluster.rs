//! `[cluster]`: the NATS JetStream that several routers share (cluster mode). Names are
//! checked here, before anything connects, because NATS refuses stream names with dots and
//! subjects with wildcards only when the stream is created — far from the line that caused it.

use super::bounds::Int;
use super::ctx::Ctx;
use super::raw::{RawCluster, RawNatsSink, RawNatsSource};
use super::{ClusterSpec, NatsAuth, NatsSinkSpec, NatsSourceSpec, SubjectPart};
use std::time::Duration;
use toml::Spanned;

pub(super) const DEFAULT_STREAM: &str = "SWITCHYARD";
pub(super) const DEFAULT_DEAD_STREAM: &str = "SWITCHYARD_DEAD";
pub(super) const DEFAULT_SUBJECT_PREFIX: &str = "switchyard";
/// Long enough for a webhook attempt at its longest timeout (30 s by default) plus a margin;
/// a router that dies mid-delivery hands its events to another one after this.
const DEFAULT_ACK_WAIT_SECS: i64 = 60;
/// JetStream answers in milliseconds when healthy; five seconds rides out a leader election
/// in a replicated stream without holding a vendor's connection much longer than it waits.
const DEFAULT_PUBLISH_TIMEOUT_MS: i64 = 5_000;

pub(super) const CLUSTER_REPLICAS: Int = Int {
    label: "cluster.replicas",
    default: 1,
    min: 1,
    max: 5,
};

pub(super) const CLUSTER_ACK_WAIT_SECS: Int = Int {
    label: "cluster.ack_wait_secs",
    default: DEFAULT_ACK_WAIT_SECS,
    min: 1,
    max: 3_600,
};

pub(super) const CLUSTER_PUBLISH_TIMEOUT_MS: Int = Int {
    label: "cluster.publish_timeout_ms",
    default: DEFAULT_PUBLISH_TIMEOUT_MS,
    min: 100,
    max: 60_000,
};

pub(super) const NATS_SINK_TIMEOUT_MS: Int = Int {
    label: "timeout_ms",
    default: DEFAULT_SINK_TIMEOUT_MS,
    min: 100,
    max: 60_000,
};

pub(super) fn cluster(cx: &mut Ctx<'_>, raw: &RawCluster, listen_port: u16) -> ClusterSpec {
    let nats_url = raw.nats_url.get_ref().trim().to_string();
    if nats_url.is_empty() || nats_url.split(',').any(|u| u.trim().is_empty() || u.contains(' ')) {
        cx.err(
            "`cluster.nats_url` must name NATS servers, like \"nats://127.0.0.1:4222\" (comma-separated for several)",
            raw.nats_url.span(),
        );
    }
    let node = match &raw.node {
        Some(n) => {
            name(cx, n, "cluster.node", |c| {
                c.is_ascii_alphanumeric() || c == '-' || c == '_'
            });
            n.get_ref().clone()
        }
        None => default_node(listen_port),
    };
    let stream_name = |cx: &mut Ctx<'_>, v: Option<&Spanned<String>>, what: &str, default: &str| match v {
        Some(s) => {
            name(cx, s, what, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            s.get_ref().clone()
        }
        None => default.to_string(),
    };
    let stream = stream_name(cx, raw.stream.as_ref(), "cluster.stream", DEFAULT_STREAM);
    let dead_stream = stream_name(cx, raw.dead_stream.as_ref(), "cluster.dead_stream", DEFAULT_DEAD_STREAM);
    if stream == dead_stream
        && let Some(s) = raw.dead_stream.as_ref().or(raw.stream.as_ref())
    {
        cx.err("`cluster.stream` and `cluster.dead_stream` must differ", s.span());
    }
    let subject_prefix = match &raw.subject_prefix {
        Some(p) => {
            let ok = p
                .get_ref()
                .split('.')
                .all(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            if !ok {
                cx.err(
                    "`cluster.subject_prefix` must be dot-separated tokens of letters, digits, `-` and `_` (no wildcards)",
                    p.span(),
                );
            }
            p.get_ref().clone()
        }
        None => DEFAULT_SUBJECT_PREFIX.to_string(),
    };
    let auth = auth(
        cx,
        Credentials {
            credentials_file: raw.credentials_file.as_ref(),
            token_env: raw.token_env.as_ref(),
            user: raw.user.as_ref(),
            password_env: raw.password_env.as_ref(),
        },
        "cluster",
    );
    ClusterSpec {
        nats_url,
        node,
        auth,
        stream,
        dead_stream,
        subject_prefix,
        replicas: cx.key(raw.replicas.as_ref(), &CLUSTER_REPLICAS) as usize,
        ack_wait: Duration::from_secs(cx.key(raw.ack_wait_secs.as_ref(), &CLUSTER_ACK_WAIT_SECS) as u64),
        publish_timeout: Duration::from_millis(
            cx.key(raw.publish_timeout_ms.as_ref(), &CLUSTER_PUBLISH_TIMEOUT_MS) as u64
        ),
    }
}

fn name(cx: &mut Ctx<'_>, value: &Spanned<String>, what: &str, allowed: impl Fn(char) -> bool) {
    let s = value.get_ref();
    if s.is_empty() || s.len() > 64 || !s.chars().all(allowed) {
        cx.err(
            format!("`{what}` `{s}` must be 1–64 characters of letters, digits, `-` and `_`"),
            value.span(),
        );
    }
}

/// The credential fields a `[cluster]` table and a NATS sink share.
struct Credentials<'r> {
    credentials_file: Option<&'r Spanned<String>>,
    token_env: Option<&'r Spanned<String>>,
    user: Option<&'r Spanned<String>>,
    password_env: Option<&'r Spanned<String>>,
}

fn auth(cx: &mut Ctx<'_>, raw: Credentials<'_>, what: &str) -> NatsAuth {
    let given = [raw.credentials_file, raw.token_env, raw.user];
    if let Some(second) = given.iter().flatten().nth(1) {
        cx.err(
            format!("`{what}` takes one of `credentials_file`, `token_env` or `user` (+ `password_env`)"),
            second.span(),
        );
    }
    if let Some(f) = raw.credentials_file {
        return NatsAuth::CredentialsFile(cx.resolve(f.get_ref()));
    }
    if let Some(t) = raw.token_env {
        return NatsAuth::TokenEnv(t.get_ref().clone());
    }
    match (raw.user, raw.password_env) {
        (Some(user), Some(password_env)) => NatsAuth::UserPassword {
            user: user.get_ref().clone(),
            password_env: password_env.get_ref().clone(),
        },
        (Some(user), None) => {
            cx.err(
                format!("`{what}.user` needs `password_env` (the variable holding its password)"),
                user.span(),
            );
            NatsAuth::None
        }
        (None, Some(p)) => {
            cx.err(format!("`{what}.password_env` needs `user`"), p.span());
            NatsAuth::None
        }
        (None, None) => NatsAuth::None,
    }
}

/// The server of a NATS sink or source: its own `url` and credentials, else the cluster's;
/// `missing` (reported at `at`) when it has neither.
fn server(
    cx: &mut Ctx<'_>,
    url: Option<&Spanned<String>>,
    credentials: Credentials<'_>,
    cluster: Option<&ClusterSpec>,
    what: &str,
    missing: String,
    at: std::ops::Range<usize>,
) -> (String, NatsAuth) {
    let own_auth = auth(cx, credentials, what);
    match (url, cluster) {
        (Some(url), _) => (url.get_ref().trim().to_string(), own_auth),
        (None, Some(c)) => (c.nats_url.clone(), c.auth.clone()),
        (None, None) => {
            cx.err(missing, at);
            (String::new(), own_auth)
        }
    }
}

/// The longest a NATS sink's publish may hold a sender by default.
const DEFAULT_SINK_TIMEOUT_MS: i64 = 5_000;

/// A `type = "nats"` sink: its server (the cluster's unless `url` is given), credentials and
/// subject template. The subject may not fall under the cluster's own subjects: the outbox
/// stream would take the events as work for a sink that does not exist.
pub(super) fn nats_sink(cx: &mut Ctx<'_>, raw: &RawNatsSink, cluster: Option<&ClusterSpec>) -> NatsSinkSpec {
    let credentials = Credentials {
        credentials_file: raw.credentials_file.as_ref(),
        token_env: raw.token_env.as_ref(),
        user: raw.user.as_ref(),
        password_env: raw.password_env.as_ref(),
    };
    let (url, auth) = server(
        cx,
        raw.url.as_ref(),
        credentials,
        cluster,
        "sink",
        "a `nats` sink needs `url` (or a `[cluster]` whose server it then uses)".into(),
        raw.subject.span(),
    );
    let template = raw.subject.get_ref();
    let subject = match subject_parts(template) {
        Ok(parts) => parts,
        Err(e) => {
            cx.err(format!("`subject` `{template}`: {e}"), raw.subject.span());
            Vec::new()
        }
    };
    if let Some(c) = cluster {
        let reserved = format!("{}.", c.subject_prefix);
        let literal: String = subject
            .iter()
            .map_while(|p| match p {
                SubjectPart::Literal(l) => Some(l.as_str()),
                SubjectPart::Field(_) => None,
            })
            .collect();
        if literal.starts_with(&reserved) {
            cx.err(
                format!("`subject` may not start with `{reserved}`: the cluster's own streams use those subjects"),
                raw.subject.span(),
            );
        }
    }
    NatsSinkSpec {
        url,
        auth,
        subject,
        subject_template: template.clone(),
        jetstream: raw.jetstream.unwrap_or(false),
        timeout: Duration::from_millis(cx.key(raw.timeout_ms.as_ref(), &NATS_SINK_TIMEOUT_MS) as u64),
    }
}

/// A source's `nats = { … }`: the server (the cluster's unless `url` is given), the subject to
/// subscribe to, and the stream that holds it, if any.
pub(super) fn nats_source(
    cx: &mut Ctx<'_>,
    raw: &RawNatsSource,
    cluster: Option<&ClusterSpec>,
    source: &str,
) -> NatsSourceSpec {
    let credentials = Credentials {
        credentials_file: raw.credentials_file.as_ref(),
        token_env: raw.token_env.as_ref(),
        user: raw.user.as_ref(),
        password_env: raw.password_env.as_ref(),
    };
    let (url, auth) = server(
        cx,
        raw.url.as_ref(),
        credentials,
        cluster,
        "nats",
        format!("source `{source}`: `nats` needs `url` (or a `[cluster]` whose server it then uses)"),
        raw.subject.span(),
    );
    let subject = raw.subject.get_ref();
    let tokens: Vec<&str> = subject.split('.').collect();
    let ok = tokens.iter().enumerate().all(|(i, t)| {
        !t.is_empty()
            && !t.contains(char::is_whitespace)
            && (*t == "*" || (*t == ">" && i == tokens.len() - 1) || !t.contains(['*', '>']))
    });
    if !ok {
        cx.err(
            format!("`subject` `{subject}` must be dot-separated tokens; `*` and a final `>` are the only wildcards"),
            raw.subject.span(),
        );
    }
    if let Some(c) = cluster
        && (subject.starts_with(&format!("{}.", c.subject_prefix)) || subject == ">")
    {
        cx.err(
            format!(
                "`subject` may not cover `{}.>`: the cluster's own streams use those subjects",
                c.subject_prefix
            ),
            raw.subject.span(),
        );
    }
    let stream = raw.stream.as_ref().map(|s| {
        name(cx, s, "stream", |c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        s.get_ref().clone()
    });
    NatsSourceSpec {
        url,
        auth,
        subject: subject.clone(),
        stream,
    }
}

/// Splits `faces.{vendor}.{/source/device_id}` into literal parts and field pointers.
fn subject_parts(template: &str) -> Result<Vec<SubjectPart>, String> {
    if template.is_empty() || template.starts_with('.') || template.ends_with('.') || template.contains("..") {
        return Err("a subject is dot-separated tokens, none empty".into());
    }
    if template.contains(|c: char| c.is_whitespace() || c == '*' || c == '>') {
        return Err("a subject to publish to has no spaces and no wildcards (`*`, `>`)".into());
    }
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| "a `{` without its `}`".to_string())?;
        if open > 0 {
            parts.push(SubjectPart::Literal(rest[..open].to_string()));
        }
        let name = &rest[open + 1..close];
        if name.is_empty() || name.contains('{') {
            return Err("`{}` must name an event field, like `{vendor}` or `{/source/device_id}`".into());
        }
        let pointer = if name.starts_with('/') {
            name.to_string()
        } else {
            format!("/{name}")
        };
        parts.push(SubjectPart::Field(pointer));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("a `}` without its `{`".into());
    }
    if !rest.is_empty() {
        parts.push(SubjectPart::Literal(rest.to_string()));
    }
    Ok(parts)
}

/// `<hostname>-<port>`: unique per machine and listener, stable across restarts (so the
/// status a node reports replaces its own earlier one).
fn default_node(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "router".to_string());
    let host: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .take(48)
        .collect();
    format!("{host}-{port}")
}

#[cfg(test)]
mod tests {
    use crate::config::{ClusterSpec, NatsAuth, load_str};
    use std::path::Path;

    fn cluster(body: &str) -> Result<ClusterSpec, String> {
        let text = format!("version = 1\n[cluster]\n{body}\n");
        load_str(&text, Path::new("/etc/switchyard/router.toml"))
            .map(|s| s.cluster.expect("cluster section"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_name_the_streams_and_the_node() {
        let c = cluster(r#"nats_url = "nats://127.0.0.1:4222""#).unwrap();
        assert_eq!(
            (c.stream.as_str(), c.dead_stream.as_str()),
            ("SWITCHYARD", "SWITCHYARD_DEAD")
        );
        assert_eq!(c.subject_prefix, "switchyard");
        assert!(c.node.ends_with("-8080"), "{}", c.node);
        assert_eq!(c.auth, NatsAuth::None);
        assert_eq!(c.replicas, 1);
    }

    #[test]
    fn credentials_resolve_next_to_the_config() {
        let c = cluster("nats_url = \"nats://a:4222,nats://b:4222\"\ncredentials_file = \"nats.creds\"").unwrap();
        assert_eq!(c.auth, NatsAuth::CredentialsFile("/etc/switchyard/nats.creds".into()));
    }

    #[test]
    fn nats_sink_subjects_take_event_fields_and_default_to_the_cluster() {
        let text = "version = 1\n[cluster]\nnats_url = \"nats://c:4222\"\n\
                    [sinks.bus]\ntype = \"nats\"\nsubject = \"faces.{vendor}.{/source/device_id}.raw\"\n";
        let spec = load_str(text, Path::new("/r.toml")).expect("valid");
        let crate::config::SinkKind::Nats(n) = &spec.sinks[0].kind else {
            panic!("a nats sink")
        };
        assert_eq!(n.url, "nats://c:4222");
        use crate::config::SubjectPart::*;
        assert_eq!(
            n.subject,
            vec![
                Literal("faces.".into()),
                Field("/vendor".into()),
                Literal(".".into()),
                Field("/source/device_id".into()),
                Literal(".raw".into())
            ]
        );
        let bad = |subject: &str, cluster: bool| {
            let c = if cluster {
                "[cluster]\nnats_url = \"nats://c\"\n"
            } else {
                ""
            };
            let text = format!("version = 1\n{c}[sinks.bus]\ntype = \"nats\"\nsubject = \"{subject}\"\n");
            load_str(&text, Path::new("/r.toml")).unwrap_err().to_string()
        };
        assert!(
            bad("faces.>", true).contains("no wildcards"),
            "{}",
            bad("faces.>", true)
        );
        assert!(bad("faces..x", true).contains("none empty"));
        assert!(bad("faces.{vendor", true).contains("without its `}`"));
        assert!(bad("switchyard.out.{vendor}", true).contains("may not start with `switchyard.`"));
        assert!(bad("faces", false).contains("needs `url`"));
    }

    #[test]
    fn bad_names_and_mixed_credentials_are_errors_with_lines() {
        let e = cluster("nats_url = \"nats://x\"\nstream = \"A.B\"\nsubject_prefix = \"sw.>\"").unwrap_err();
        assert!(e.contains("`cluster.stream` `A.B`"), "{e}");
        assert!(e.contains("cluster.subject_prefix"), "{e}");
        assert!(e.contains(":4:"), "line of stream: {e}");
        let e = cluster("nats_url = \"nats://x\"\ntoken_env = \"T\"\nuser = \"u\"\npassword_env = \"P\"").unwrap_err();
        assert!(e.contains("one of `credentials_file`"), "{e}");
        let e = cluster("nats_url = \"nats://x\"\nuser = \"u\"").unwrap_err();
        assert!(e.contains("needs `password_env`"), "{e}");
        let e = cluster("nats_url = \"nats://x\"\nreplicas = 9").unwrap_err();
        assert!(e.contains("`cluster.replicas` must be between 1 and 5"), "{e}");
        let e = cluster("nats_url = \"nats://x\"\nnats = 1").unwrap_err();
        assert!(e.contains("unknown field `nats`"), "{e}");
    }
}
