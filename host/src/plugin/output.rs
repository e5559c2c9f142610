//! What a guest says besides its result: its stdout/stderr (Python's `print` and tracebacks,
//! JavaScript's `console.log`, C's `printf`) and the last error it logged through `host.log`
//! (the Rust SDK's panic hook writes the panic message there). Captured per store and capped,
//! written to the router's log after every call tagged with the plugin id, and attached to a
//! trap so the quarantine entry and the log say what the guest said before it died.

use bytes::Bytes;
use std::sync::{Arc, Mutex};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes kept per stream per call: enough for a Python traceback, small enough that a guest
/// printing in a loop cannot grow the router's memory or flood its log.
pub(crate) const MAX_CAPTURED_BYTES: usize = 16 * 1024;
/// Lines of captured output written to the router log per stream per call.
const MAX_LOGGED_LINES: usize = 50;
/// What of a stream goes into a trap message (its end: where the error usually is).
const MAX_ATTACHED_BYTES: usize = 2048;

/// One captured stream (clones share the buffer). Writes past the cap are counted and
/// dropped, never refused: a guest must not fail because it printed too much.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Captured>>);

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: u64,
}

impl Capture {
    fn push(&self, data: &[u8]) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let room = MAX_CAPTURED_BYTES.saturating_sub(c.bytes.len());
        let kept = data.len().min(room);
        c.bytes.extend_from_slice(&data[..kept]);
        c.dropped += (data.len() - kept) as u64;
    }

    /// Takes what was written since the last call: the text and how many bytes were dropped.
    fn take(&self) -> (String, u64) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&c.bytes).into_owned();
        let dropped = c.dropped;
        c.bytes.clear();
        c.dropped = 0;
        (text, dropped)
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A store's guest output.
#[derive(Default)]
pub(crate) struct Output {
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    /// The last `error`-level `host.log` line of the current call (a Rust panic's message).
    pub(crate) last_error: Option<String>,
    /// `host.log` lines of the current call written to the router log, and those dropped
    /// past [`MAX_LOGGED_LINES`] (the same cap as stdout and stderr).
    log_lines: usize,
    log_dropped: usize,
}

/// What one call left behind, once logged.
#[derive(Debug, Default)]
pub(crate) struct Said {
    /// The guest's own account of a failure: its last error log line, else the end of stderr.
    pub(crate) message: Option<String>,
}

impl Output {
    /// Whether one more `host.log` line of this call may go to the router log (counts it).
    pub(crate) fn may_log(&mut self) -> bool {
        if self.log_lines < MAX_LOGGED_LINES {
            self.log_lines += 1;
            true
        } else {
            self.log_dropped += 1;
            false
        }
    }

    /// Writes this call's stdout/stderr to the router log (one event per line, tagged with the
    /// plugin and the stream) and returns what a failure report should quote.
    pub(crate) fn drain(&mut self, plugin: &str) -> Said {
        let mut stderr_tail = None;
        let dropped_logs = std::mem::take(&mut self.log_dropped);
        self.log_lines = 0;
        if dropped_logs > 0 {
            tracing::warn!(
                plugin,
                omitted_lines = dropped_logs,
                "Plugin log cut: at most {MAX_LOGGED_LINES} host.log lines per call."
            );
        }
        for (stream, capture) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let (text, dropped) = capture.take();
            if text.is_empty() && dropped == 0 {
                continue;
            }
            let lines: Vec<&str> = text.lines().collect();
            for line in lines.iter().take(MAX_LOGGED_LINES) {
                tracing::info!(plugin, stream, "{line}");
            }
            let omitted = lines.len().saturating_sub(MAX_LOGGED_LINES);
            if omitted > 0 || dropped > 0 {
                tracing::warn!(
                    plugin,
                    stream,
                    omitted_lines = omitted,
                    dropped_bytes = dropped,
                    "Plugin output cut."
                );
            }
            if stream == "stderr" && !text.trim().is_empty() {
                stderr_tail = Some(tail(text.trim_end(), MAX_ATTACHED_BYTES));
            }
        }
        Said {
            message: self.last_error.take().or(stderr_tail),
        }
    }
}

/// The last `max` bytes of `text` (on a character boundary), marked when cut.
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

fn is_runtime_frame(name: &str) -> bool {
    [
        "abort",
        "panic",
        "__rust",
        "std::",
        "core::",
        "alloc::",
        "rust_begin_unwind",
    ]
    .iter()
    .any(|noise| name.contains(noise))
}

/// A trap made readable: the trap itself, then up to five named frames of the guest's
/// backtrace (innermost first). Guests stripped of their name section have no names; then
/// only the trap is given, not a list of `<wasm function 112>`.
pub(crate) fn describe_trap(e: &wasmtime::Error) -> String {
    let trap = e
        .downcast_ref::<wasmtime::Trap>()
        .map(ToString::to_string)
        .unwrap_or_else(|| format!("{e:#}"));
    let names: Vec<String> = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| {
            bt.frames()
                .iter()
                .filter_map(|f| f.func_name().map(|n| format!("{:#}", rustc_demangle::demangle(n))))
                // The guest's own frames: skip its language runtime's abort and panic
                // machinery, which is the same in every trap.
                .filter(|name| !is_runtime_frame(name))
                .take(5)
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        trap
    } else {
        format!("{trap}; backtrace: {}", names.join(" ← "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_is_capped_and_counts_what_it_dropped() {
        let c = Capture::default();
        c.push(&vec![b'a'; MAX_CAPTURED_BYTES - 1]);
        c.push(b"bcd");
        let (text, dropped) = c.take();
        assert_eq!(text.len(), MAX_CAPTURED_BYTES);
        assert!(text.ends_with('b'));
        assert_eq!(dropped, 2);
        assert_eq!(c.take(), (String::new(), 0), "take empties the buffer");
    }

    #[test]
    fn a_calls_log_lines_are_capped_like_its_stdout() {
        let mut out = Output::default();
        let logged = (0..1_000).filter(|_| out.may_log()).count();
        assert_eq!(logged, MAX_LOGGED_LINES);
        assert_eq!(out.log_dropped, 1_000 - MAX_LOGGED_LINES);
        out.drain("p");
        assert!(out.may_log(), "the next call starts over");
        assert_eq!(out.log_dropped, 0);
    }

    #[test]
    fn the_last_error_log_line_wins_over_stderr() {
        let mut out = Output::default();
        out.stderr
            .push(b"Traceback (most recent call last):\n  ...\nValueError: boom\n");
        assert_eq!(
            out.drain("p").message.as_deref(),
            Some("Traceback (most recent call last):\n  ...\nValueError: boom")
        );
        out.stderr.push(b"noise\n");
        out.last_error = Some("panicked at src/lib.rs:1:1: oops".into());
        assert_eq!(
            out.drain("p").message.as_deref(),
            Some("panicked at src/lib.rs:1:1: oops")
        );
        assert!(out.drain("p").message.is_none(), "a drained call leaves nothing behind");
    }

    #[test]
    fn tails_are_cut_on_char_boundaries() {
        let text = "é".repeat(2000);
        let t = tail(&text, 101);
        assert!(t.starts_with('…'));
        assert!(t.len() <= 101 + '…'.len_utf8());
    }
}
