//! What every console handler is given: the running router, the ingest edge and the
//! console's own state.

use super::state::Console;
use crate::ingest::Edge;
use crate::router::Router;
use std::sync::Arc;

/// What the console serves: the running router, the edge (its registries show in the
/// status), and the console's own state.
pub struct Admin {
    /// The running router.
    pub router: Arc<Router>,
    /// The ingest edge.
    pub edge: Arc<Edge>,
    /// The console's memory.
    pub console: Arc<Console>,
}
