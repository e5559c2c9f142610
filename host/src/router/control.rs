//! What can be asked of the running router, and what it says back: reload requests (from the
//! file watcher, SIGHUP, the admin API, or a plugin breaking its rollback policy) and the
//! reload status `/admin/status` reports. The controller that answers them is `reload`'s.

use serde::Serialize;
use tokio::sync::oneshot;

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// router.toml or a plugin file changed on disk.
    Watcher,
    /// SIGHUP.
    Signal,
    /// `POST /admin/reload`.
    Admin,
    /// A newly loaded plugin version broke its rollback policy.
    Rollback,
}

/// One reload request; `reply` receives the outcome.
#[derive(Debug)]
pub struct ReloadRequest {
    /// Who asked.
    pub trigger: Trigger,
    /// With [`Trigger::Rollback`]: the plugin to take back.
    pub plugin: Option<String>,
    /// Where to send the outcome.
    pub reply: Option<oneshot::Sender<Outcome>>,
}

/// How a reload ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// `applied`, `rejected` or `unchanged`.
    pub outcome: &'static str,
    /// Why it was rejected (file, line and column for config errors).
    pub reason: Option<String>,
    /// Who asked.
    pub trigger: Trigger,
    /// When it finished.
    pub at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
    /// sha256 of the config text that was tried.
    pub config_sha256: Option<String>,
}

/// What `GET /admin/status` reports about reloads.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// sha256 of the active config text.
    pub config_sha256: String,
    /// The last reload, if any.
    pub last_reload: Option<Outcome>,
}
