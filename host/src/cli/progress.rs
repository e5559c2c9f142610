//! Progress for long CLI operations: a bar on stderr when it is a terminal, plain lines
//! otherwise (CI logs, pipes), or into a buffer (tests).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// A progress reporter.
pub struct Progress {
    bar: ProgressBar,
    /// Where lines go when no bar is drawn.
    lines: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Progress {
    /// A bar on stderr if it is a terminal, else one plain line per step on stderr.
    pub fn stderr(what: &str) -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(what.to_string());
        Progress { bar, lines: None }
    }

    /// Lines into a buffer, readable with [`Progress::captured`].
    pub fn buffer() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
            lines: Some(Arc::default()),
        }
    }

    /// What a buffered reporter collected.
    pub fn captured(&self) -> String {
        self.lines
            .as_ref()
            .map(|b| String::from_utf8_lossy(&b.lock().unwrap_or_else(|p| p.into_inner())).into_owned())
            .unwrap_or_default()
    }

    /// Sets the number of steps.
    pub fn set_len(&self, len: u64) {
        self.bar.set_length(len);
    }

    /// One step done, with a line saying what happened.
    pub fn step(&self, line: &str) {
        self.bar.inc(1);
        self.line(line);
    }

    /// Advances by `n` steps without a line.
    pub fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Sets the position (steps done).
    pub fn set_position(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// A line: above the bar, or on its own.
    pub fn line(&self, line: &str) {
        match &self.lines {
            Some(buf) => {
                let _ = writeln!(buf.lock().unwrap_or_else(|p| p.into_inner()), "{line}");
            }
            None if self.bar.is_hidden() => eprintln!("{line}"),
            None => self.bar.println(line),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
