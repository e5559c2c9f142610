//! What every console answer is made of: a body (whole or streamed), JSON, and the API's
//! errors as a status with a message.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use std::convert::Infallible;

/// The body of every console response: whole (JSON, assets) or streamed (live events).
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A whole body.
pub(crate) fn full(bytes: Bytes) -> Body {
    Full::new(bytes).boxed()
}

/// A JSON answer.
pub(crate) fn json_body(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    crate::ingest::json(status, value).map(BodyExt::boxed)
}

/// An API error: status and message.
pub(crate) struct Problem(pub(crate) StatusCode, pub(crate) String);

impl Problem {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Problem {
        Problem(status, message.into())
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Problem {
        Problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }

    pub(crate) fn response(self) -> Response<Body> {
        json_body(self.0, &json!({ "error": self.1 }))
    }
}

pub(crate) type Answer = Result<Response<Body>, Problem>;

pub(crate) fn ok(value: &Value) -> Answer {
    Ok(json_body(StatusCode::OK, value))
}
