//! The command line's grammar (clap): every command, its flags and their help — what
//! `switchyard --help`, the man pages and the shell completions are made from.

use super::dlq::DlqFilter;
use crate::telemetry::LogFormat;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// `switchyard --version`: the release, the commit it was built from, the plugin ABI versions
/// it runs and the data formats it writes — what a support question or an upgrade needs.
pub static LONG_VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}\ncommit:       {}\nplugin ABI:   {}\ndata formats: {}\nbuilt-in plugins: {}",
        env!("CARGO_PKG_VERSION"),
        env!("SWITCHYARD_GIT_COMMIT"),
        crate::plugin::SUPPORTED_ABI,
        crate::formats::summary(),
        crate::plugin::builtin::carried().count(),
    )
});

/// switchyard — a WebAssembly-pluggable event router.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, long_version = LONG_VERSION.as_str(), about)]
pub struct Args {
    /// Log format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "SWITCHYARD_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the router.
    Run {
        /// The config file.
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// Do not watch the config and plugin files (reload with SIGHUP or POST /admin/reload).
        #[arg(long)]
        no_watch: bool,
        /// Run the config published to the cluster (`switchyard publish`) and follow later
        /// publishes; `--config` then names this node's own file: `[cluster]` (how to reach
        /// NATS, the node name) and optionally `[server] listen`/`data_dir`, `[admin] listen`.
        #[arg(long)]
        from_cluster: bool,
    },
    /// Publish router.toml and its plugin files to the cluster named in its `[cluster]`; every
    /// router started with `run --from-cluster` picks them up and hot-reloads.
    Publish {
        /// The config file.
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
    },
    /// Write a commented router.toml for the vendors you have, using the built-in plugins;
    /// `switchyard run` in that directory then works as it is.
    Init {
        /// Where to write router.toml (made when missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The vendors, comma-separated: findface, omni, sensenebula, noahface, preservica,
        /// json (default: the five vendors).
        #[arg(long, value_delimiter = ',')]
        vendor: Vec<String>,
        /// Where devices post (`[server] listen`).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// The console's listener (`[admin] listen`), or "off".
        #[arg(long, default_value = "127.0.0.1:8081")]
        admin_listen: String,
        /// The data dir (relative: to router.toml's folder).
        #[arg(long, default_value = "data")]
        data_dir: String,
        /// Overwrite an existing router.toml.
        #[arg(long)]
        force: bool,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout, e.g.
    /// `switchyard completions bash > /etc/bash_completion.d/switchyard`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (switchyard.1, switchyard-run.1, …, switchyard.toml.5) into a directory.
    #[command(hide = true)]
    Manpage {
        /// The directory.
        out: PathBuf,
    },
    /// Check a config file (and load its plugins) without running; every error is reported.
    Check {
        /// The config file.
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// Only parse and compile; do not load plugins.
        #[arg(long)]
        no_plugins: bool,
        /// `text` (compiler-style, for people) or `json` (one object: ok, errors with line and
        /// column, summary).
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
    },
    /// The config's reference, from the code.
    Config {
        /// What to print.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Re-run quarantined requests through the current config and plugins (e.g. after a fix).
    Replay {
        /// The config file.
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// Only requests of this source id.
        #[arg(long)]
        source: Option<String>,
        /// Only requests received at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
    },
    /// The dead letters: events a sink refused for good or that outlived their attempts.
    Dlq {
        /// What to do with them.
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Door decisions, from the audit log (`<data_dir>/decisions/`).
    Decisions {
        /// What to show.
        #[command(subcommand)]
        command: DecisionsCommand,
    },
    /// Access-terminal tools.
    Terminal {
        /// What to do with a terminal.
        #[command(subcommand)]
        command: TerminalCommand,
    },
    /// Plugin tools.
    Plugin {
        /// What to do with a plugin.
        #[command(subcommand)]
        command: PluginCommand,
    },
}

/// How `check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Text,
    /// For tools.
    Json,
}

/// `switchyard config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of router.toml (for editors: save it and start router.toml with
    /// `#:schema ./router.schema.json`).
    Schema,
    /// Print the reference of every key (Markdown: type, default, bounds, reload, meaning).
    Reference,
}

/// `switchyard dlq …`.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters (oldest failure first) with their last error.
    List {
        /// The config file (for its data dir).
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// Which dead letters.
        #[command(flatten)]
        filter: DlqFilter,
        /// One JSON object per line, with the event, instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put dead letters back into the outbox for delivery (same webhook-id, fresh attempts).
    Replay {
        /// The config file (for its data dir).
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// Which dead letters.
        #[command(flatten)]
        filter: DlqFilter,
        /// Then follow their delivery by the running router for up to this long (e.g. `2m`);
        /// exits non-zero if any failed again or is still waiting.
        #[arg(long, value_parser = humantime::parse_duration)]
        wait: Option<std::time::Duration>,
    },
    /// Delete dead letters for good (retention); they cannot be replayed afterwards.
    Purge {
        /// The config file (for its data dir).
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// Only this sink's.
        #[arg(long)]
        sink: Option<String>,
        /// Only those that failed before this RFC 3339 time (required: there is no "all").
        #[arg(long)]
        before: String,
    },
}

/// `switchyard decisions …`.
#[derive(Debug, Subcommand)]
pub enum DecisionsCommand {
    /// Print the latest decisions, oldest first; with --follow, keep printing new ones.
    Tail {
        /// The config file (for its data dir).
        #[arg(long, short, default_value = "router.toml", env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
        /// How many of the latest to print.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: usize,
        /// Keep printing decisions as they are made (until interrupted).
        #[arg(long, short)]
        follow: bool,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `switchyard terminal …`.
#[derive(Debug, Subcommand)]
pub enum TerminalCommand {
    /// Point a SenseNebula Pass terminal's event push at this router.
    Subscribe {
        /// The terminal's API base URL, e.g. https://10.0.0.31.
        device: String,
        /// Where the terminal should push events, e.g. http://10.0.0.2:8080/ingest/sensenebula.
        #[arg(long)]
        dest: String,
        /// Value for the `Authorization` header (the device API token), if it requires one.
        #[arg(long, env = "SWITCHYARD_TERMINAL_TOKEN")]
        token: Option<String>,
        /// Turn pushing off instead.
        #[arg(long)]
        disable: bool,
        /// Trust this PEM certificate (the terminal's own, for self-signed devices).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Accept any device certificate (encrypted but unauthenticated).
        #[arg(long)]
        insecure: bool,
    },
}

/// `switchyard plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a new plugin project (outside this repository): source, WIT, sample input,
    /// settings, a router.toml snippet and a README.
    New {
        /// The plugin's name: its id in router.toml and its file name (a-z, 0-9, `-`, `_`).
        name: String,
        /// normalizer, filter, transform or decider.
        #[arg(long)]
        kind: String,
        /// rust, python, js or c.
        #[arg(long)]
        lang: String,
        /// Where to write it (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build the plugin project in DIR (or the one around it) into its component, with the
    /// toolchain its language needs (installed when missing).
    Build {
        /// A directory in the project.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Cargo's target directory for a Rust project (default: CARGO_TARGET_DIR, else the
        /// project's target/); several projects sharing one build their dependencies once.
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// The plugins built into this binary (`builtin = "<name>"` in router.toml): kind,
    /// router:plugin version, sha256.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the compile cache (compiled components, shared by `plugin test`, `check` and the
    /// router) or prune it.
    Cache {
        /// The cache directory (default: the user's, `~/.cache/switchyard/compiled`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The cache of this router config (`<data_dir>/cache`).
        #[arg(long, conflicts_with = "dir")]
        config: Option<PathBuf>,
        /// Remove the least recently used components until the cache holds at most this many MiB
        /// (0 empties it).
        #[arg(long, value_name = "MIB")]
        prune: Option<u64>,
    },
    /// Show what a component is: kind, router:plugin version, exports, imports (WASI
    /// included), whether it checks its settings, size, digest and signature (signer, claims,
    /// whether it verifies; with --config, whether that router's `[trust]` accepts it).
    Inspect {
        /// The component (.wasm), or `builtin:<name>`; default: the one --plugin names in --config.
        #[arg(required_unless_present = "config")]
        plugin: Option<PathBuf>,
        /// Check the signature against this router config's `[trust]` for --plugin.
        #[arg(long, requires = "plugin_id")]
        config: Option<PathBuf>,
        /// The plugin id in --config.
        #[arg(long = "plugin", id = "plugin_id", requires = "config")]
        plugin_id: Option<String>,
    },
    /// Make an ed25519 key pair for signing plugins: NAME.pem (private, mode 0600, never
    /// printed) and NAME.pub (the public key routers trust).
    Keygen {
        /// The key's name (its file names; a router's `[trust]` id for it by default).
        name: String,
        /// Where to write the two files (default: the current directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Push a component to an OCI registry (the Wasm OCI artifact layout that `wkg oci`
    /// reads); prints the reference pinned to the manifest's digest, for router.toml's `source`.
    Push {
        /// The component (.wasm), signed or not.
        file: PathBuf,
        /// `oci://registry/repository:tag` (plain HTTP for a registry on loopback).
        reference: String,
    },
    /// Pull a component from an OCI registry, checked against the reference's digest when it
    /// has one.
    Pull {
        /// `oci://registry/repository:tag[@sha256:…]`.
        reference: String,
        /// Where to write it (default: ./<repository's last part>.wasm).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Sign a component: embeds the signer's public key, the claims, the component's digest
    /// and the signature in a custom section (`switchyard:signature`); the file stays a valid
    /// component. Signing again replaces the signature.
    Sign {
        /// The component (.wasm).
        component: PathBuf,
        /// The private key (PKCS#8 PEM, as `plugin keygen` or `openssl genpkey -algorithm ed25519` writes it).
        #[arg(long)]
        key: PathBuf,
        /// What the signer says: `name=…,version=…,vendor=…,expires=…` (`expires`: an RFC 3339
        /// instant or a date, the end of that day UTC; routers refuse the component after it).
        #[arg(long)]
        claims: Option<String>,
        /// Write the signed component here (default: replace COMPONENT).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Run one plugin on an input and print the result as JSON.
    ///
    /// In a project made by `plugin new`, with no arguments: the project's component on its
    /// sample with its settings.toml, compared with samples/expected.json. For a normalizer,
    /// INPUT is a request envelope (`{"http": {...}, "raw_body": "..."}`, as in the vendor
    /// samples) or any other file, posted as the body. For filters, transforms and deciders,
    /// INPUT is one router.event/v1 JSON object, a normalizer's report (`plugin test` output)
    /// or events.jsonl lines (a file sink's output): each event is run.
    Test {
        /// The plugin component (.wasm); default: the project's.
        plugin: Option<PathBuf>,
        /// The input file; default: the project's sample.
        input: Option<PathBuf>,
        /// The plugin's settings as a JSON object, or `@file.json`/`@file.toml`.
        #[arg(long)]
        settings: Option<String>,
        /// Load the plugin as this router config does (file, kind, limits, settings, secrets,
        /// roster); needs --plugin.
        #[arg(long, requires = "plugin_id")]
        config: Option<PathBuf>,
        /// The plugin id in --config.
        #[arg(long = "plugin", id = "plugin_id", requires = "config")]
        plugin_id: Option<String>,
        /// Compare the output (without the component's path and hash, per-run values
        /// masked) with this JSON file; exit 1 when it differs.
        #[arg(long)]
        expect: Option<PathBuf>,
        /// Write the expected output file from this run instead of comparing.
        #[arg(long)]
        bless: bool,
        /// Rerun on every change of the component, the input or (in a project) the sources,
        /// rebuilding first.
        #[arg(long)]
        watch: bool,
        /// The source id the request pretends to come from.
        #[arg(long, default_value = "test")]
        source_id: String,
        /// CPU budget per call.
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u64,
        /// Further CPU budget per MiB of input.
        #[arg(long, default_value_t = crate::plugin::PluginLimits::DEFAULT.timeout_ms_per_mib)]
        timeout_ms_per_mib: u64,
        /// Memory cap.
        #[arg(long, default_value_t = 64 << 20)]
        max_memory_bytes: u64,
        /// A decider's roster (CSV or JSON), for `site.roster-lookup`.
        #[arg(long)]
        roster: Option<PathBuf>,
        /// The roster's key column.
        #[arg(long, default_value = "person_id")]
        roster_key: String,
        /// A decider's site time zone (IANA name) for `site.local-now`; default UTC.
        #[arg(long)]
        time_zone: Option<String>,
    },
}
