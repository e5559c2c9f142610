//! The operator console and the admin API, on their own listener (`admin.listen`, loopback
//! by default): `/ui` (the page, embedded), `/admin/api/v1/…` (JSON, documented in
//! docs/admin-api.md), and the long-standing `/metrics`, `/admin/status` and
//! `/admin/reload`, which the ingest listener keeps serving too.
//!
//! Kept apart from the ingest edge on purpose: the ingest listener's limits (connection
//! caps, body budgets, rate limits) are tuned for vendors, and an operator's browser must
//! reach the console while a flood is being refused there — and the console must never be
//! exposed just because ingest listens on a public address.

mod access;
mod actions;
mod api;
mod context;
mod diff;
mod flow;
mod jobs;
mod live;
mod operator;
mod reply;
mod server;
mod session;
mod state;
mod stream;
mod ui;

pub use context::Admin;
pub use operator::operator;
pub use server::{bind, sampler, serve};
pub use state::Console;
