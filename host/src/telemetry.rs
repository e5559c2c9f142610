//! Structured logs with `tracing`: human text on a terminal, JSON lines for collectors.

use tracing_subscriber::EnvFilter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` overrides `default_level` (e.g. `switchyard=debug`).
pub fn init(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// `text` on one line, its line breaks shown as ` | `: a guest's traceback in an error stays
/// one log record that line-oriented tools (journald, grep) keep together. The quarantine
/// entry and the admin API keep the original text.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    std::borrow::Cow::Owned(lines.join(" | "))
}

#[cfg(test)]
mod one_line_tests {
    #[test]
    fn a_traceback_becomes_one_line() {
        assert_eq!(super::one_line("plain"), "plain");
        assert_eq!(
            super::one_line(
                "plugin `p` failed: Traceback (most recent call last):\n  File \"app.py\", line 3\n\nValueError: x\n"
            ),
            "plugin `p` failed: Traceback (most recent call last): |   File \"app.py\", line 3 | ValueError: x"
        );
    }
}
