//! `switchyard init [DIR] --vendor findface,omni`: a commented router.toml for the vendors an
//! operator has, using the built-in plugins, secrets from environment variables (or files),
//! one file sink and a data dir — runnable as it is with `switchyard run` in DIR, on a machine
//! with no checkout and no Rust. The Debian package's /etc/switchyard/router.toml is made by
//! this command too, so what `init` writes is what operators start from.

use anyhow::{Context, bail};
use std::path::PathBuf;

/// A vendor `init` knows: its name on the command line and its router.toml block.
struct Vendor {
    name: &'static str,
    /// What the vendor side must be told, for the closing message.
    setup: &'static str,
    /// Environment variables the block reads secrets from.
    secrets: &'static [&'static str],
    block: &'static str,
}

const VENDORS: &[Vendor] = &[
    Vendor {
        name: "findface",
        setup: "FindFace: Settings → Webhooks → URL http://<this host>:<port>/ingest/findface",
        secrets: &[],
        block: r#"# ── FindFace Security 4.x / Multi 2.x ──────────────────────────────────────────────
# FindFace → Settings → Webhooks → URL http://<this host>:<port>/ingest/findface.
# FindFace signs nothing: let only the FindFace host reach this port (firewall).
[plugins.findface]
builtin = "normalize-findface"

[plugins.redact]
builtin = "redact"
settings = { url_credentials = true }   # camera RTSP URLs carry passwords

[[sources]]
id = "findface"
path = "/ingest/findface"
normalizer = "findface"
transforms = ["redact"]
max_body_bytes = 8388608                # batches of verbose events
"#,
    },
    Vendor {
        name: "omni",
        setup: "3DiVi OMNI: a webhook (or agent process push) to http://<this host>:<port>/ingest/omni",
        secrets: &[],
        block: r#"# ── 3DiVi OMNI Platform ─────────────────────────────────────────────────────────────
# Webhooks and agent process pushes to http://<this host>:<port>/ingest/omni. To follow the
# platform's websocket feed instead (OMNI ≥ 1.18), add a source with
#   websocket = { url = "ws://<omni>/event-service/ws?endpoint_id=<id>", reconnect_max_secs = 30 }
[plugins.omni]
builtin = "normalize-omni"

[[sources]]
id = "omni"
path = "/ingest/omni"
normalizer = "omni"
max_body_bytes = 16777216               # base64 best shots
"#,
    },
    Vendor {
        name: "sensenebula",
        setup: "SenseNebula Pass: `switchyard terminal subscribe http://<terminal> --dest http://<this host>:<port>/ingest/sensenebula`; remote authentication address …/ingest/sensenebula/auth",
        secrets: &[],
        block: r#"# ── SenseTime SenseNebula Pass terminals ────────────────────────────────────────────
# Event push: `switchyard terminal subscribe http://<terminal> --dest http://<this host>:<port>/ingest/sensenebula`.
# Remote authentication (the door waits for the answer): http://<this host>:<port>/ingest/sensenebula/auth.
# With no decider every remote-auth request is denied with the tip below; to decide from a
# roster, add a decider (see `switchyard plugin list`: decide-roster) and `decider = "…"`.
[plugins.sensenebula]
builtin = "normalize-sensenebula"
timeout_ms = 50                         # a door is waiting on remote-auth answers
reuse = "warm"                          # stateless: a warm instance answers faster
settings = { remote_auth = { pass = false, customtips = "Please see reception" } }

[[sources]]
id = "sensenebula"
path = "/ingest/sensenebula"
normalizer = "sensenebula"
methods = ["GET", "POST"]               # heartbeats are GET
max_body_bytes = 4194304                # inline JPEG snapshots
"#,
    },
    Vendor {
        name: "noahface",
        setup: "NoahFace: Event Notification → URL http://<this host>:<port>/ingest/noahface, Basic auth user `noahface`, password = NOAHFACE_PASSWORD",
        secrets: &["NOAHFACE_PASSWORD"],
        block: r#"# ── NoahFace attendance and access ──────────────────────────────────────────────────
# Event Notification → URL http://<this host>:<port>/ingest/noahface, Basic auth user `noahface`.
# The password: the NOAHFACE_PASSWORD environment variable (or `password_file = "…"`).
# Until it is set, NoahFace's requests get 503 and wait on the device.
[plugins.noahface]
builtin = "normalize-noahface"

[[sources]]
id = "noahface"
path = "/ingest/noahface"
normalizer = "noahface"
methods = ["GET", "PUT", "POST"]        # NoahFace sends events by all three
auth = { type = "basic", username = "noahface", password_env = "NOAHFACE_PASSWORD" }
"#,
    },
    Vendor {
        name: "preservica",
        setup: "Preservica: subscribe http://<this host>:<port>/ingest/preservica with the secret in PRESERVICA_SECRET",
        secrets: &["PRESERVICA_SECRET"],
        block: r#"# ── Preservica webhooks (HMAC-signed, challenge handshake) ──────────────────────────
# Subscribe http://<this host>:<port>/ingest/preservica with the same secret as
# PRESERVICA_SECRET (or `file = "…"` instead of `env`). Unsigned or missigned calls get 401.
[plugins.preservica]
builtin = "normalize-preservica"
secrets = { hmac = { env = "PRESERVICA_SECRET" } }

[[sources]]
id = "preservica"
path = "/ingest/preservica"
normalizer = "preservica"
"#,
    },
    Vendor {
        name: "json",
        setup: "any JSON sender: POST to http://<this host>:<port>/ingest/json with `Authorization: Bearer $JSON_TOKEN`",
        secrets: &["JSON_TOKEN"],
        block: r#"# ── Any system that posts plain JSON ────────────────────────────────────────────────
# Map its fields in settings.fields (dotted paths); what is not mapped stays in vendor_extras.
[plugins.json]
builtin = "normalize-json"

[plugins.json.settings]
vendor = "acme"
category = "recognition"

[plugins.json.settings.fields]
vendor_event_id = "id"
occurred_at = "time"
action = "action"
"source.device_id" = "device"
"subject.person_id" = "person.id"
"subject.display_name" = "person.name"
"match.matched" = "matched"
"match.score" = "score"

[[sources]]
id = "json"
path = "/ingest/json"
normalizer = "json"
auth = { type = "bearer", token_env = "JSON_TOKEN" }   # or token_file = "…"
"#,
    },
];

/// What `switchyard init` was asked.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The directory to write router.toml into (made when missing).
    pub dir: PathBuf,
    /// Vendor names; empty: the five vendors.
    pub vendors: Vec<String>,
    /// `[server] listen`.
    pub listen: String,
    /// `[admin] listen` (the console), or "off".
    pub admin_listen: String,
    /// `[server] data_dir`, as written (relative: to the config's folder).
    pub data_dir: String,
    /// Overwrite an existing router.toml.
    pub force: bool,
}

/// The vendor names `init` knows, for `--help` and errors.
pub fn init_vendors() -> Vec<&'static str> {
    VENDORS.iter().map(|v| v.name).collect()
}

/// The config text for `options` (pure: nothing is written).
pub fn init_config(options: &InitOptions) -> anyhow::Result<String> {
    Ok(render(options, &chosen(&options.vendors)?))
}

fn render(options: &InitOptions, chosen: &[&Vendor]) -> String {
    // The values with their comments in one column.
    let listen_line = format!("listen = {:?}", options.listen);
    let data_dir_line = format!("data_dir = {:?}", options.data_dir);
    let mut text = format!(
        r#"# switchyard router config, written by `switchyard init` (switchyard {version}).
# Every key: `switchyard config reference` (docs/config.md; in the Debian package
# /usr/share/doc/switchyard/config.md); a JSON Schema for editors: `switchyard config
# schema`. Check a change with `switchyard check`; a running router
# reloads this file by itself (or on SIGHUP / `systemctl reload switchyard`).
version = 1

[server]
{listen_line} # where devices post (0.0.0.0: every interface)
{data_dir_line} # outbox, quarantine, file sinks (relative: to this file)
dedup_window_secs = 600                  # a re-sent event (same id and content) is delivered once
# min_free_bytes = 268435456             # below this much free disk, new requests get 503

# The operator console and /metrics: {console}.
# Loopback clients always; others when listed in `allow` or sending
# `Authorization: Bearer <token>` (the token from token_env or token_file).
[admin]
listen = "{admin}"
# allow = ["10.0.0.0/8"]
# token_env = "SWITCHYARD_ADMIN_TOKEN"
# token_file = "/etc/switchyard/admin-token"

"#,
        version = env!("CARGO_PKG_VERSION"),
        listen_line = format_args!("{listen_line:<40}"),
        data_dir_line = format_args!("{data_dir_line:<40}"),
        admin = options.admin_listen,
        console = if options.admin_listen == "off" {
            "off (`listen = \"127.0.0.1:8081\"` serves them)".to_string()
        } else {
            format!("http://{}/ui", options.admin_listen)
        },
    );
    for vendor in chosen {
        text.push_str(&vendor.block.replace("<port>", port(&options.listen)));
        text.push('\n');
    }
    text.push_str(
        r#"# ── Where events go ──────────────────────────────────────────────────────────────────
# Every normalized event (router.event/v1, one JSON object per line) into data_dir/events.jsonl.
[sinks.events]
type = "file"
path = "events.jsonl"

# A webhook receiver: delivered durably (outbox on disk), retried with backoff, dead-lettered
# after `max_attempts` (`switchyard dlq list`). Uncomment and add it to a route's sinks.
# [sinks.receiver]
# type = "webhook"
# url = "https://receiver.example/events"
# signing_secret_env = "RECEIVER_WHSEC"   # Standard Webhooks signatures

[[routes]]
name = "everything"
sinks = ["events"]
"#,
    );
    text
}

/// Writes DIR/router.toml; returns what to tell the operator.
pub fn init(options: &InitOptions) -> anyhow::Result<String> {
    let chosen = chosen(&options.vendors)?;
    let text = render(options, &chosen);
    let path = options.dir.join("router.toml");
    if path.exists() && !options.force {
        bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    std::fs::create_dir_all(&options.dir).with_context(|| format!("creating {}", options.dir.display()))?;
    // The config names secrets' variables, never values; still, it is the operator's file.
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    let mut next = format!("Wrote {}.\n\nNext:\n", path.display());
    let secrets: Vec<&str> = chosen.iter().flat_map(|v| v.secrets.iter().copied()).collect();
    if !secrets.is_empty() {
        next.push_str(&format!(
            "  export {}   # secrets the config reads\n",
            secrets.join("=… ") + "=…"
        ));
    }
    next.push_str(&format!(
        "  switchyard run --config {}\n\nThen point each system at this router:\n",
        path.display()
    ));
    for vendor in &chosen {
        next.push_str(&format!(
            "  {}\n",
            vendor.setup.replace("<port>", port(&options.listen))
        ));
    }
    Ok(next)
}

fn port(listen: &str) -> &str {
    listen.rsplit_once(':').map_or(listen, |(_, p)| p)
}

fn chosen(names: &[String]) -> anyhow::Result<Vec<&'static Vendor>> {
    if names.is_empty() {
        return Ok(VENDORS.iter().filter(|v| v.name != "json").collect());
    }
    let mut chosen: Vec<&Vendor> = Vec::new();
    for name in names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let Some(vendor) = VENDORS.iter().find(|v| v.name == name.to_ascii_lowercase()) else {
            bail!("unknown vendor `{name}`; `init` knows {}", init_vendors().join(", "));
        };
        if !chosen.iter().any(|c| c.name == vendor.name) {
            chosen.push(vendor);
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn options(vendors: &[&str]) -> InitOptions {
        InitOptions {
            dir: PathBuf::from("/nonexistent"),
            vendors: vendors.iter().map(|v| v.to_string()).collect(),
            listen: "127.0.0.1:8080".into(),
            admin_listen: "127.0.0.1:8081".into(),
            data_dir: "data".into(),
            force: false,
        }
    }

    #[test]
    fn every_vendor_combination_compiles() {
        let all: Vec<&str> = init_vendors();
        for vendors in [vec![], all.clone(), vec!["findface"], vec!["sensenebula", "json"]] {
            let text = init_config(&options(&vendors)).expect("config");
            if let Err(e) = crate::config::load_str(&text, Path::new("/etc/switchyard/router.toml")) {
                panic!("init --vendor {vendors:?} wrote a config that does not compile:\n{e}\n{text}");
            }
        }
    }

    #[test]
    fn vendors_are_chosen_by_name_once() {
        let text = init_config(&options(&["findface,FindFace", "omni"])).expect("config");
        assert_eq!(text.matches("[plugins.findface]").count(), 1);
        assert!(text.contains("[plugins.omni]"));
        assert!(!text.contains("[plugins.noahface]"));
        let err = init_config(&options(&["findfce"])).unwrap_err().to_string();
        assert!(err.contains("unknown vendor `findfce`"), "{err}");
    }
}
