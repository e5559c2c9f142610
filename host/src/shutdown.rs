//! One shutdown signal passed to everything that runs until the router stops.

use tokio_util::sync::CancellationToken;

/// A cloneable shutdown signal.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(CancellationToken);

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Shutdown {
        Shutdown(CancellationToken::new())
    }

    /// Fires it.
    pub fn trigger(&self) {
        self.0.cancel();
    }

    /// Whether it fired.
    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Resolves when it fires.
    pub async fn cancelled(&self) {
        self.0.cancelled().await;
    }
}
