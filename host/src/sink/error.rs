//! Why one delivery attempt failed.

/// A failed delivery attempt.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered with a non-2xx status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The first bytes of the answer.
        body: String,
        /// Seconds the receiver asked us to wait (`Retry-After`).
        retry_after_secs: Option<u64>,
    },
    /// No answer within the timeout.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// Connection refused, reset, DNS failure…
    #[error("connection failed: {0}")]
    Connect(String),
    /// The sink is misconfigured in a way a reload can fix (e.g. its signing secret is
    /// missing): the event waits.
    #[error("sink not ready: {0}")]
    Config(String),
    /// The request could not even be built (a bug or a bad header value).
    #[error("invalid request: {0}")]
    Request(String),
}
