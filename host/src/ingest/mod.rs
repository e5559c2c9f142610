//! The HTTP edge: accepts connections, maps each request to its source by path, checks
//! authentication and the body cap, and hands the request to the pipeline. Every failure is
//! answered with a status and a message naming the problem, and the raw request is kept in
//! the quarantine. This module must not know what the plugins do.

mod admin;
mod auth;
mod body;
mod handler;
mod limiter;
mod response;
mod server;
mod websocket;

pub use auth::check as check_auth;
pub use body::{BodyError, DecodeError, decode, read_capped};
pub use handler::Shared;
pub use response::Error;
pub use server::serve;
pub use websocket::follow;
