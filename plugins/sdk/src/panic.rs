//! Panics that say what happened. On `wasm32-unknown-unknown` a panic aborts with nothing but
//! `unreachable` in the host's trap; this hook first sends the panic message and its source
//! location to the router's log at `error` level (`host.log`). The router attaches the last
//! such message of a call to the trap it reports, so `unwrap()` on a missing field reads as
//! "panicked at src/lib.rs:42:17: called `Option::unwrap()` on a `None` value" in the log and
//! in the quarantine entry.
//!
//! Installed automatically: a constructor registered in `.init_array`, which the component's
//! first export call runs (wit-bindgen's exports call `__wasm_call_ctors` once). Plugins can
//! also call [`install`] themselves; doing so twice is harmless.

use std::sync::Once;

static INSTALLED: Once = Once::new();

/// Installs the hook (idempotent).
pub fn install() {
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".to_string());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            crate::host::log(crate::host::Level::Error, &format!("panicked{location}: {message}"));
        }));
    });
}

// The constructor: wasm-ld lists `.init_array` entries in `__wasm_call_ctors`. Natively
// (unit tests) the hook stays the test harness's own.
#[cfg(target_arch = "wasm32")]
extern "C" fn install_at_start() {
    install();
}

#[cfg(target_arch = "wasm32")]
#[used]
#[unsafe(link_section = ".init_array")]
static INSTALL_AT_START: extern "C" fn() = install_at_start;
