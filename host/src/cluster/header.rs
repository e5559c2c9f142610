//! Message headers of the outbox and dead-letter streams: what the embedded outbox keeps in
//! its columns (documented for integrators who read the streams themselves).

/// The Standard Webhooks `webhook-id` (the message id is `<sink>:<webhook-id>`).
pub const WEBHOOK_ID: &str = "Switchyard-Webhook-Id";
/// The sink's ordering key, when it has one.
pub const ORDERING_KEY: &str = "Switchyard-Ordering-Key";
/// When the router committed it (epoch ms); a sink's `max_age` counts from here.
pub const CREATED_MS: &str = "Switchyard-Created-Ms";
/// The router that accepted it.
pub const NODE: &str = "Switchyard-Node";
/// Dead letters: the attempts made.
pub const ATTEMPTS: &str = "Switchyard-Attempts";
/// Dead letters: the last attempt's error (one line).
pub const ERROR: &str = "Switchyard-Error";
/// Dead letters: when it was given up on (epoch ms).
pub const FAILED_MS: &str = "Switchyard-Failed-Ms";
