//! Hot reload: a change to router.toml or to any plugin it references (seen by the watcher),
//! SIGHUP, or `POST /admin/reload` all become one [`ReloadRequest`] for the single controller
//! task, which loads and compiles the config strictly, builds the whole new pipeline
//! (unchanged plugins come from the compile cache), runs the sources' self-test samples
//! without side effects, and only then swaps it in atomically. Requests in flight finish on
//! the pipeline they started with. Any failure keeps the running pipeline and is reported.

pub(crate) mod controller;
mod selftest;
mod watcher;

pub use controller::Controller;
pub use selftest::{mask_volatile, self_test};
pub use watcher::Watcher;
