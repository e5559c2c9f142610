//! The running router: the state every serving part shares, built once in `lib.rs` and handed
//! down — the HTTP edge (`ingest`), the reload controller (`reload`) and the console (`admin`)
//! each hold an `Arc<Router>`; none of them is imported from here, and this room imports
//! nothing above the pipeline. The console learns what happens through [`Observer`], never by
//! being called from the edge.
//!
//! - `state`: the [`Router`]; `control`: reload requests and the reload status;
//! - `observe`: the [`Observer`] interface; `report`: the status report to the cluster.

mod control;
mod observe;
mod report;
mod state;

pub use control::{Outcome, ReloadRequest, Status, Trigger};
pub use observe::{Observer, Unobserved};
pub use report::report_to_cluster;
pub use state::Router;
