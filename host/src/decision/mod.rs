//! Door decisions: what a source's decider ruled (or why the fallback answered instead), the
//! operator's roster deciders read, and the bounded audit log every decision is written to.
//!
//! The decision itself runs in `pipeline::decide` (between the normalizer and the reply); the
//! host import a decider reads the roster and site clock through is `plugin::site`; the
//! handler answers the terminal as soon as the ruling is rendered and records it here
//! (`/metrics`, audit log, one log line) while delivery continues in the background.

mod audit;
mod record;
mod roster;

pub use audit::{AUDIT_FILE, AUDIT_FILE_BYTES, AUDIT_PREVIOUS_FILE, AuditLog, audit_dir};
pub use record::{Outcome, Record};
pub use roster::{MAX_ROSTER_BYTES, Roster};
