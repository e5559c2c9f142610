//! What can go wrong with a plugin, one variant per outcome the pipeline branches on.
//! A guest-reported `plugin-error` (expected) is kept apart from a trap (a fault).

/// A plugin failure, naming the plugin.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plugin said the input is malformed (`plugin-error::invalid-input`): a client error.
    #[error("plugin `{plugin}` rejected the input: {reason}")]
    Rejected {
        /// Plugin id.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The plugin says the sender is not authentic (`plugin-error::unauthorized`).
    #[error("plugin `{plugin}` refused the sender: {reason}")]
    Unauthorized {
        /// Plugin id.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The plugin cannot serve now (`plugin-error::unavailable`), e.g. a secret is missing.
    #[error("plugin `{plugin}` is unavailable: {reason}")]
    Unavailable {
        /// Plugin id.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The plugin says its settings are wrong (`plugin-error::bad-settings`).
    #[error("plugin `{plugin}` has invalid settings: {reason}")]
    BadSettings {
        /// Plugin id.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The settings do not fit the schema the component carries (checked by the router
    /// before the plugin's own `validate-settings`, whatever its language).
    #[error("plugin `{plugin}` has invalid settings: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    SettingsSchema {
        /// Plugin id.
        plugin: String,
        /// Every setting that does not fit, each naming its key.
        problems: Vec<router_plugin_kit::schema::Problem>,
    },
    /// The plugin reported an internal failure (`plugin-error::internal`).
    #[error("plugin `{plugin}` failed: {reason}")]
    Failed {
        /// Plugin id.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The guest trapped (panic, `unreachable`, out-of-bounds access…).
    #[error("plugin `{plugin}` trapped in {call}: {message}")]
    Trapped {
        /// Plugin id.
        plugin: String,
        /// The export that was running (`normalize`, `filter`…, `instantiate`).
        call: &'static str,
        /// The guest's own last words when it left any (a panic message, the end of its
        /// stderr), then the trap and the named frames of its backtrace.
        message: String,
    },
    /// The guest ran past its CPU budget and was interrupted.
    #[error("plugin `{plugin}` exceeded its CPU budget of {budget_ms} ms")]
    DeadlineExceeded {
        /// Plugin id.
        plugin: String,
        /// The call's budget: `timeout_ms` plus `timeout_ms_per_mib` of its input.
        budget_ms: u64,
    },
    /// The guest tried to grow memory (or tables) past its cap.
    #[error(
        "plugin `{plugin}` exceeded its memory limit of {limit_bytes} bytes (`max_memory_bytes` of `[plugins.{plugin}]`)"
    )]
    ResourceLimit {
        /// Plugin id.
        plugin: String,
        /// The configured `max_memory_bytes`.
        limit_bytes: u64,
    },
    /// The plugin's output breaks the ABI contract (e.g. `extras` that is not a JSON object).
    #[error("plugin `{plugin}` returned an invalid result: {reason}")]
    Contract {
        /// Plugin id.
        plugin: String,
        /// What was wrong.
        reason: String,
    },
    /// The plugin's output for this request is over a `[server.limits]` cap, by no more than
    /// its input explains (see `pipeline::validate`): the input is too big for the router's
    /// limits — the sender's doing, not a fault of the plugin (answered 422, kept in the
    /// quarantine, not counted against the plugin's rollback policy).
    #[error("the output of plugin `{plugin}` for this request is over a limit: {reason}")]
    OverLimit {
        /// Plugin id.
        plugin: String,
        /// Which cap, by how much.
        reason: String,
    },
    /// A decider had not ruled when its source's `decision.deadline_ms` ran out (it was
    /// slow, or no plugin thread was free); it was cut off.
    #[error("plugin `{plugin}` did not rule within the {deadline_ms:.1} ms decision deadline")]
    Late {
        /// Plugin id.
        plugin: String,
        /// What was left of the deadline when it was called.
        deadline_ms: f64,
    },
    /// The file could not be read, compiled or linked.
    #[error("cannot load plugin `{plugin}` from {path}: {reason}")]
    Load {
        /// Plugin id.
        plugin: String,
        /// The .wasm path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// The plugin this error names.
    pub fn plugin(&self) -> &str {
        match self {
            Error::Rejected { plugin, .. }
            | Error::Unauthorized { plugin, .. }
            | Error::Unavailable { plugin, .. }
            | Error::BadSettings { plugin, .. }
            | Error::SettingsSchema { plugin, .. }
            | Error::Failed { plugin, .. }
            | Error::Trapped { plugin, .. }
            | Error::DeadlineExceeded { plugin, .. }
            | Error::ResourceLimit { plugin, .. }
            | Error::Contract { plugin, .. }
            | Error::OverLimit { plugin, .. }
            | Error::Late { plugin, .. }
            | Error::Load { plugin, .. } => plugin,
        }
    }

    /// A short name of the outcome, for metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Rejected { .. } => "rejected",
            Error::Unauthorized { .. } => "unauthorized",
            Error::Unavailable { .. } => "unavailable",
            Error::BadSettings { .. } | Error::SettingsSchema { .. } => "bad_settings",
            Error::Failed { .. } => "failed",
            Error::Trapped { .. } => "trapped",
            Error::DeadlineExceeded { .. } => "cpu_budget",
            Error::ResourceLimit { .. } => "memory_limit",
            Error::Contract { .. } => "invalid_result",
            Error::OverLimit { .. } => "over_limit",
            Error::Late { .. } => "late",
            Error::Load { .. } => "load",
        }
    }

    /// True when the sender is at fault (malformed input, bad signature), not the router.
    pub fn is_client_error(&self) -> bool {
        matches!(self, Error::Rejected { .. } | Error::Unauthorized { .. })
    }
}
