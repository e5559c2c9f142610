//! A message from a feed the router reads itself (a websocket frame, a NATS message) through
//! the pipeline: the source's size cap, processing, and the same accounting as an HTTP
//! request. What to do with a failure (quarantine, redelivery) is the caller's: a feed has no
//! sender to answer.

use super::edge::Edge;
use super::response::Error;
use crate::event::AuthKind;
use crate::pipeline::{Pipeline, Processed, Source};
use crate::plugin::Request;

/// Runs `request` through `source` of `pipeline`; a body over the source's cap is refused
/// before any processing.
pub(super) async fn process(
    edge: &Edge,
    pipeline: &Pipeline,
    source: &Source,
    request: &Request,
    auth: AuthKind,
) -> Result<Processed, Error> {
    if request.body.len() > source.spec.max_body_bytes {
        return Err(Error::TooLarge {
            limit: source.spec.max_body_bytes,
        });
    }
    match pipeline.process(source, request, auth).await {
        Ok(p) => {
            edge.router.observed(pipeline, request, &p);
            edge.router.answered(&request.source_id, 200);
            Ok(p)
        }
        Err(e) => {
            if let crate::pipeline::ProcessError::Plugin(fault) = &e {
                edge.router.plugin_failed(pipeline, fault);
            }
            edge.router.failed(&e);
            let error = Error::Process(e);
            edge.router.answered(&request.source_id, error.status().as_u16());
            Err(error)
        }
    }
}
