//! The compiled configuration as a whole: what `config::load` returns.

use super::spec::*;
use super::spec_io::*;
use std::path::PathBuf;

/// The whole router.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterSpec {
    /// The config file this came from.
    pub config_path: PathBuf,
    /// Process-level settings.
    pub server: ServerSpec,
    /// Who may use the operator endpoints.
    pub admin: AdminSpec,
    /// `[cluster]`: the NATS JetStream shared with other routers; `None` for the embedded
    /// outbox.
    pub cluster: Option<ClusterSpec>,
    /// Plugins by id, in file order.
    pub plugins: Vec<PluginSpec>,
    /// HTTP sources.
    pub sources: Vec<SourceSpec>,
    /// Sinks by id, in file order.
    pub sinks: Vec<SinkSpec>,
    /// Routes, in file order (every matching route delivers).
    pub routes: Vec<RouteSpec>,
}
