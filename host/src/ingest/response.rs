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
    /// The source cannot take requests (its secret is missing).
    #[error("{0}")]
    Unavailable(String),
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
    Encoding(#[from] super::body::DecodeError),
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
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BadBody(_) => StatusCode::BAD_REQUEST,
            Error::Encoding(super::body::DecodeError::Unsupported(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Encoding(super::body::DecodeError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Encoding(super::body::DecodeError::Corrupt { .. }) => StatusCode::BAD_REQUEST,
            Error::Process(ProcessError::Plugin(crate::plugin::Error::Unauthorized { .. })) => StatusCode::UNAUTHORIZED,
            Error::Process(ProcessError::Plugin(crate::plugin::Error::Unavailable { .. })) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Process(ProcessError::Plugin(e)) if e.is_client_error() => StatusCode::BAD_REQUEST,
            // Storage trouble is the router's and passes: the sender should retry later.
            Error::Process(ProcessError::Outbox(_) | ProcessError::Sink { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Process(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The answer. `kept` says whether the raw request was quarantined.
    pub fn to_response(&self, delivery_id: &str, kept: bool) -> Response<Full<Bytes>> {
        let status = self.status();
        let unavailable = matches!(
            self,
            Error::Unavailable(_) | Error::Process(ProcessError::Plugin(crate::plugin::Error::Unavailable { .. }))
        );
        let storage = matches!(
            self,
            Error::Process(ProcessError::Outbox(_) | ProcessError::Sink { .. })
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
        if let Error::Unauthorized { challenge, .. } = self {
            response.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static(challenge),
            );
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
