//! The single `bindgen!` of the host. Every option lives here; the rest of the crate reaches
//! the generated code only through `plugin::convert` and `plugin::instance`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "host-bindings",
    // Host imports are plain synchronous functions (log, settings, now); exports are called
    // with `call_async` because the engine yields to tokio on epoch ticks.
    exports: { default: async },
});

pub(crate) use exports::router::plugin::answer_api;
pub(crate) use exports::router::plugin::{decide_api, filter_api, normalize_api, setup_api, transform_api};
pub(crate) use router::plugin::host as wit_host;
pub(crate) use router::plugin::site as wit_site;
pub(crate) use router::plugin::types as wit;
