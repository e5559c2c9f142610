//! The command line (`args` is its grammar): `run` (also `--from-cluster`), `init`, `check`,
//! `config schema|reference`, `publish` (a config to the cluster), `replay` (quarantined
//! requests), `dlq list|replay|purge` (the durable queue's dead letters, outbox or cluster),
//! `decisions tail|follow`, `terminal subscribe`, `plugin new|build|test|inspect|list|cache|keygen|sign|push|pull`
//! (the plugin kit, the built-ins, the compile cache, signatures, OCI registries), `completions`. Runtime flags only; the pipeline's shape lives
//! in router.toml. Each command is a library function here, so tests run them in-process.

mod args;
mod builtins;
mod check;
mod decisions;
mod dlq;
mod init;
mod plugin_cache;
mod plugin_kit;
mod plugin_oci;
mod plugin_sign;
mod plugin_test;
mod progress;
mod replay;
mod terminal;

pub use crate::queue::ReplaySummary as DlqReplaySummary;
pub use crate::tls::TlsOptions;
pub use args::*;
pub use builtins::{Listed, plugin_list, plugin_table};
pub use check::{CheckReport, Diagnostic, Summary, check, check_report};
pub use decisions::{decisions_follow, decisions_tail};
pub use dlq::{DlqFilter, dlq_list, dlq_purge, dlq_replay, dlq_table};
pub use init::{InitOptions, init, init_config, init_vendors};
pub use plugin_cache::{plugin_cache, plugin_cache_dir};
pub use plugin_kit::{TestArgs, plugin_build, plugin_inspect, plugin_new, plugin_test_command};
pub use plugin_oci::{plugin_pull, plugin_push};
pub use plugin_sign::{plugin_keygen, plugin_sign};
pub use plugin_test::{SiteOptions, TestCase, parse_settings, plugin_test, plugin_test_with, run_case};
pub use progress::Progress;
pub use replay::{ReplaySummary, replay};
pub use terminal::terminal_subscribe;
