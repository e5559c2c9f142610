//! Every way a request can fail at the edge, and the one function that turns it into an HTTP
//! answer. Client errors say what was wrong; server errors are logged with context and the
//! sender learns only that the request was kept (and under which id).

use crate::pipeline::ProcessError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

/// An ingest failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No source listens on the path.
    #[error("no source listens on {path}")]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// Missing or wrong credentials.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// What was wrong.
        reason: &'static str,
        /// `WWW-Authenticate` value.
        challenge: &'static str,
    },
    /// The source does not take this HTTP method.
    #[error("method {method} is not accepted on this path (allowed: {})", allowed.join(", "))]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The source's methods.
        allowed: Vec<String>,
    },
    /// The source cannot take requests (its secret is missing).
    #[error("{0}")]
    Unavailable(String),
    /// Too many replies carrying a MAC of request data (challenge answers) for this source.
    #[error("too many signing challenges for this source; retry in {retry_after_secs} s")]
    TooManyChallenges {
        /// When the next one will be answered.
        retry_after_secs: u64,
    },
    /// The source's `rate_limit` is used up.
    #[error("this source takes no more requests right now (rate limit); retry in {retry_after_secs} s")]
    RateLimited {
        /// When the next request will be taken.
        retry_after_secs: u64,
    },
    /// No room in the buffered-body budget for this body.
    #[error("{}", match .0 {
        super::budget::Exhausted::Global => "the router is holding as many request bodies as it may; retry later",
        super::budget::Exhausted::Peer => "this address is sending as many request bodies at once as it may; retry later",
    })]
    BodyBudget(super::budget::Exhausted),
    /// The body did not arrive fast enough.
    #[error("{0}")]
    TooSlow(String),
    /// Storage is below the disk budget: nothing new is taken until space is freed.
    #[error("the router is low on storage and takes no new events right now; retry later")]
    StorageLow(crate::disk::Low),
    /// Body over the cap.
    #[error("request body exceeds the {limit}-byte limit of this source")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The body could not be read.
    #[error("{0}")]
    BadBody(String),
    /// The body's `Content-Encoding` could not be undone.
    #[error(transparent)]
    Encoding(#[from] super::decode::DecodeError),
    /// The pipeline failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
}

impl Error {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::TooManyChallenges { .. } | Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::BodyBudget(super::budget::Exhausted::Peer) => StatusCode::TOO_MANY_REQUESTS,
            Error::BodyBudget(super::budget::Exhausted::Global) => StatusCode::SERVICE_UNAVAILABLE,
            Error::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Unavailable(_) | Error::StorageLow(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BadBody(_) => StatusCode::BAD_REQUEST,
            Error::Encoding(super::decode::DecodeError::Unsupported(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Encoding(super::decode::DecodeError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Encoding(super::decode::DecodeError::Corrupt { .. }) => StatusCode::BAD_REQUEST,
            Error::Process(ProcessError::Plugin(crate::plugin::Error::Unauthorized { .. })) => StatusCode::UNAUTHORIZED,
            Error::Process(ProcessError::Plugin(crate::plugin::Error::Unavailable { .. })) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Process(ProcessError::Plugin(crate::plugin::Error::OverLimit { .. })) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::Process(ProcessError::Plugin(e)) if e.is_client_error() => StatusCode::BAD_REQUEST,
            // Storage trouble is the router's and passes: the sender should retry later.
            Error::Process(ProcessError::Outbox(_) | ProcessError::Sink { .. } | ProcessError::Media(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Process(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The answer. `kept` says whether the raw request was quarantined.
    pub fn to_response(&self, delivery_id: &str, kept: bool) -> Response<Full<Bytes>> {
        let status = self.status();
        let unavailable = matches!(
            self,
            Error::Unavailable(_)
                | Error::StorageLow(_)
                | Error::BodyBudget(_)
                | Error::Process(ProcessError::Plugin(crate::plugin::Error::Unavailable { .. }))
        );
        let storage = matches!(
            self,
            Error::Process(ProcessError::Outbox(_) | ProcessError::Sink { .. } | ProcessError::Media(_))
        );
        let message = if storage {
            // Paths and OS errors stay in the log; the sender learns what to do.
            "the router cannot store events right now; retry later".to_string()
        } else if status.is_server_error() && !unavailable {
            "internal error while processing the request".to_string()
        } else {
            self.to_string()
        };
        let mut body = serde_json::json!({ "error": message, "delivery_id": delivery_id });
        if kept {
            body["quarantined"] = true.into();
        }
        let mut response = json(status, &body);
        let headers = response.headers_mut();
        match self {
            Error::Unauthorized { challenge, .. } => {
                headers.insert(
                    hyper::header::WWW_AUTHENTICATE,
                    hyper::header::HeaderValue::from_static(challenge),
                );
            }
            Error::MethodNotAllowed { allowed, .. } => {
                if let Ok(v) = hyper::header::HeaderValue::from_str(&allowed.join(", ")) {
                    headers.insert(hyper::header::ALLOW, v);
                }
            }
            Error::TooManyChallenges { retry_after_secs } | Error::RateLimited { retry_after_secs } => {
                headers.insert(
                    hyper::header::RETRY_AFTER,
                    hyper::header::HeaderValue::from(*retry_after_secs),
                );
            }
            Error::BodyBudget(_) => {
                headers.insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from(1u64));
            }
            // Storage trouble passes; say when to come back.
            Error::StorageLow(_)
            | Error::Process(ProcessError::Outbox(_) | ProcessError::Sink { .. } | ProcessError::Media(_)) => {
                headers.insert(
                    hyper::header::RETRY_AFTER,
                    hyper::header::HeaderValue::from(crate::disk::RETRY_AFTER_SECS),
                );
            }
            _ => {}
        }
        response
    }
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
