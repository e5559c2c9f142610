//! The service manager's side of start, reload and stop (`sd_notify(3)`): with `Type=notify`
//! (or `notify-reload`) in the unit, systemd learns that the router is ready only once its
//! listeners serve — so units ordered after it start when events can really flow — and a
//! `systemctl reload` knows when the new config is live. Without `$NOTIFY_SOCKET` (not run by
//! systemd, or a test) every call here does nothing.
//!
//! The protocol is one datagram of `KEY=value` lines to the unix socket named in
//! `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace); no library needed.

use std::os::unix::net::{SocketAddr, UnixDatagram};

/// Where to send notifications, if a service manager asked for them.
fn socket_addr() -> Option<SocketAddr> {
    let name = std::env::var_os("NOTIFY_SOCKET")?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(name.as_os_str()).to_vec();
    match bytes.split_first() {
        Some((b'@', abstract_name)) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name).ok()
        }
        Some((b'/', _)) => SocketAddr::from_pathname(std::path::Path::new(&name)).ok(),
        _ => None,
    }
}

/// Sends `state` (newline-separated assignments); false when there is no manager or the send
/// failed (logged at debug: a router must run the same with or without one).
pub fn notify(state: &str) -> bool {
    let Some(addr) = socket_addr() else {
        return false;
    };
    let sent = UnixDatagram::unbound().and_then(|socket| socket.send_to_addr(state.as_bytes(), &addr));
    if let Err(e) = &sent {
        tracing::debug!(error = %e, "Could not notify the service manager.");
    }
    sent.is_ok()
}

/// Serving: listeners accept, the pipeline is built and self-tested.
pub fn ready(status: &str) {
    notify(&format!("READY=1\nSTATUS={}", one_line(status)));
}

/// A reload began. `MONOTONIC_USEC` is what `Type=notify-reload` (systemd ≥ 253) matches
/// against its own clock; older managers ignore it.
pub fn reloading() {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let usec = now.tv_sec as u128 * 1_000_000 + now.tv_nsec as u128 / 1_000;
    notify(&format!(
        "RELOADING=1\nMONOTONIC_USEC={usec}\nSTATUS=Reloading the config."
    ));
}

/// Shutting down: draining connections and deliveries.
pub fn stopping() {
    notify("STOPPING=1\nSTATUS=Draining connections and deliveries.");
}

/// A status line for `systemctl status` (e.g. why a reload was rejected).
pub fn status(text: &str) {
    notify(&format!("STATUS={}", one_line(text)));
}

/// One line: the protocol separates assignments by newlines.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a b  c");
    }
}
