//! The HTTP edge: accepts connections, maps each request to its source by path, checks
//! authentication and the body cap, and hands the request to the pipeline. Every failure is
//! answered with a status and a message naming the problem, and the raw request is kept in
//! the quarantine. This module must not know what the plugins do.

mod auth;
mod budget;
mod connections;
mod decode;
mod edge;
mod feed;
mod handler;
pub(crate) mod limiter;
mod nats;
mod processing;
mod reconfigure;
mod response;
mod server;
mod websocket;

pub use auth::check as check_auth;
pub(crate) use auth::constant_time_eq;
pub(crate) use connections::{Connections, connection_ceiling};
pub use decode::{DecodeError, decode};
pub use edge::{Edge, Operator};
pub use reconfigure::follow_swaps;
pub use response::Error;
pub(crate) use response::json;
pub use server::serve;
pub(crate) use server::{Gate, accept, run_connection};
