//! The host's model of a normalized event, `router.event/v1`, exactly as it is written to
//! sinks (snake_case JSON). It mirrors the WIT `event` record one to one; `plugin::convert`
//! is the only place that translates between the two. No WIT type appears here.

mod encoding;
mod json_object;
mod model;

pub use encoding::{Encoding, encode, field_text};
pub use json_object::JsonObject;
pub use model::*;
