//! router.toml for tests, built from parts, so that a test says only what is particular to it
//! and a change of the config format is made here once. `{plugins}` and `{dir}` placeholders
//! are filled in by [`crate::TestRouter`].
//!
//! ```ignore
//! let text = Config::new()
//!     .server("dedup_window_secs = 0")
//!     .json_source("in", "/in")
//!     .webhook("hook", &mock.url(), &["max_attempts = 3"])
//!     .file_sink("events", "events.jsonl")
//!     .route(&["hook", "events"])
//!     .to_string();
//! ```

use std::fmt;

/// The settings of the generic JSON normalizer most tests use: vendor `acme`, the event id in
/// `id`, the device in `device`.
pub const JSON_SETTINGS: &str =
    r#"settings = { vendor = "acme", fields = { vendor_event_id = "id", "source.device_id" = "device" } }"#;

/// A config under construction.
#[derive(Debug, Clone, Default)]
pub struct Config {
    server: Vec<String>,
    admin: Vec<String>,
    trust: Vec<String>,
    plugins: Vec<(String, String)>,
    sources: Vec<String>,
    sinks: Vec<String>,
    routes: Vec<String>,
}

impl Config {
    /// An empty config (`version = 1` only).
    pub fn new() -> Config {
        Config::default()
    }

    /// A line in `[server]`, e.g. `min_free_bytes = 0`.
    pub fn server(mut self, line: &str) -> Config {
        self.server.push(line.to_string());
        self
    }

    /// A line in `[admin]`, e.g. `token_env = "X"` (without `listen`, a test router's
    /// console listens on an ephemeral loopback port: see [`crate::TestRouter`]).
    pub fn admin(mut self, line: &str) -> Config {
        self.admin.push(line.to_string());
        self
    }

    /// `[plugins.<id>]` for `target/plugins/<file>.wasm`, with extra lines (settings, limits).
    /// A plugin id given twice is declared once.
    pub fn plugin(mut self, id: &str, file: &str, kind: &str, lines: &[&str]) -> Config {
        if !self.plugins.iter().any(|(known, _)| known == id) {
            let mut text = format!("[plugins.{id}]\npath = \"{{plugins}}/{file}.wasm\"\nkind = \"{kind}\"\n");
            append_lines(&mut text, lines);
            self.plugins.push((id.to_string(), text));
        }
        self
    }

    /// A line in `[trust]`, e.g. `require_signature = true`.
    pub fn trust(mut self, line: &str) -> Config {
        self.trust.push(line.to_string());
        self
    }

    /// `[plugins.<id>]` whose component comes from `source` (`oci://…`).
    pub fn plugin_from(mut self, id: &str, source: &str, kind: &str, lines: &[&str]) -> Config {
        let mut text = format!("[plugins.{id}]\nsource = \"{source}\"\nkind = \"{kind}\"\n");
        append_lines(&mut text, lines);
        self.plugins.push((id.to_string(), text));
        self
    }

    /// `[plugins.<id>]` for a plugin built into the router (`builtin = "<name>"`).
    pub fn builtin(mut self, id: &str, name: &str, lines: &[&str]) -> Config {
        if !self.plugins.iter().any(|(known, _)| known == id) {
            let mut text = format!("[plugins.{id}]\nbuiltin = \"{name}\"\n");
            append_lines(&mut text, lines);
            self.plugins.push((id.to_string(), text));
        }
        self
    }

    /// `[plugins.<id>]` for a .wasm at `path` (a guest built by the test, e.g. from WAT).
    pub fn plugin_at(mut self, id: &str, path: &std::path::Path, kind: &str, lines: &[&str]) -> Config {
        let mut text = format!(
            "[plugins.{id}]\npath = {:?}\nkind = \"{kind}\"\n",
            path.display().to_string()
        );
        append_lines(&mut text, lines);
        self.plugins.push((id.to_string(), text));
        self
    }

    /// TOML written elsewhere (a plugin project's `router-snippet.toml`), as it is.
    pub fn snippet(mut self, text: &str) -> Config {
        self.plugins
            .push((format!("snippet-{}", self.plugins.len()), text.to_string()));
        self
    }

    /// An HTTP source on `path` normalized by plugin `normalizer`, with extra lines.
    pub fn source(mut self, id: &str, path: &str, normalizer: &str, lines: &[&str]) -> Config {
        let mut text = format!("[[sources]]\nid = \"{id}\"\npath = \"{path}\"\nnormalizer = \"{normalizer}\"\n");
        append_lines(&mut text, lines);
        self.sources.push(text);
        self
    }

    /// A websocket source following the feed at `url`.
    pub fn feed(self, id: &str, url: &str, normalizer: &str) -> Config {
        self.feed_with(id, url, normalizer, &[])
    }

    /// A websocket source with extra lines (e.g. `max_body_bytes = 65536`).
    pub fn feed_with(mut self, id: &str, url: &str, normalizer: &str, lines: &[&str]) -> Config {
        let mut text = format!(
            "[[sources]]\nid = \"{id}\"\nnormalizer = \"{normalizer}\"\nwebsocket = {{ url = \"{url}\", reconnect_max_secs = 1 }}\n"
        );
        append_lines(&mut text, lines);
        self.sources.push(text);
        self
    }

    /// An HTTP source on `path` through `normalize-json` with [`JSON_SETTINGS`].
    pub fn json_source(self, id: &str, path: &str) -> Config {
        self.plugin("normalize-json", "normalize-json", "normalizer", &[JSON_SETTINGS])
            .source(id, path, "normalize-json", &[])
    }

    /// A JSON Lines file sink (`path` relative to the data dir).
    pub fn file_sink(self, id: &str, path: &str) -> Config {
        self.file_sink_with(id, path, &[])
    }

    /// A JSON Lines file sink with extra lines (e.g. `encoding = "compact"`).
    pub fn file_sink_with(mut self, id: &str, path: &str, lines: &[&str]) -> Config {
        let mut text = format!("[sinks.{id}]\ntype = \"file\"\npath = \"{path}\"\n");
        append_lines(&mut text, lines);
        self.sinks.push(text);
        self
    }

    /// A webhook sink with quick retries (20–200 ms) and extra lines.
    pub fn webhook(mut self, id: &str, url: &str, lines: &[&str]) -> Config {
        let mut text =
            format!("[sinks.{id}]\ntype = \"webhook\"\nurl = \"{url}\"\nbackoff_ms = 20\nmax_backoff_ms = 200\n");
        append_lines(&mut text, lines);
        self.sinks.push(text);
        self
    }

    /// A route of the events `matching` (a TOML inline table) to `sinks`.
    pub fn route_matching(mut self, matching: &str, sinks: &[&str]) -> Config {
        let list: Vec<String> = sinks.iter().map(|s| format!("\"{s}\"")).collect();
        self.routes.push(format!(
            "[[routes]]\nmatch = {matching}\nsinks = [{}]\n",
            list.join(", ")
        ));
        self
    }

    /// A route of every event to `sinks`.
    pub fn route(mut self, sinks: &[&str]) -> Config {
        let list: Vec<String> = sinks.iter().map(|s| format!("\"{s}\"")).collect();
        self.routes.push(format!("[[routes]]\nsinks = [{}]\n", list.join(", ")));
        self
    }
}

/// Appends each of `lines` to a section's text, one per line.
fn append_lines(text: &mut String, lines: &[&str]) {
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "version = 1")?;
        if !self.server.is_empty() {
            writeln!(f, "\n[server]")?;
            for line in &self.server {
                writeln!(f, "{line}")?;
            }
        }
        if !self.admin.is_empty() {
            writeln!(f, "\n[admin]")?;
            if !self.admin.iter().any(|l| l.trim_start().starts_with("listen")) {
                writeln!(f, "listen = \"127.0.0.1:0\"")?;
            }
            for line in &self.admin {
                writeln!(f, "{line}")?;
            }
        }
        if !self.trust.is_empty() {
            writeln!(f, "\n[trust]")?;
            for line in &self.trust {
                writeln!(f, "{line}")?;
            }
        }
        let parts = self
            .plugins
            .iter()
            .map(|(_, text)| text)
            .chain(&self.sources)
            .chain(&self.sinks)
            .chain(&self.routes);
        for part in parts {
            write!(f, "\n{part}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_config_compiles() {
        let text = Config::new()
            .server("dedup_window_secs = 0")
            .json_source("in", "/in")
            .json_source("other", "/other")
            .webhook("hook", "http://127.0.0.1:9/hook", &["max_attempts = 3"])
            .file_sink("events", "events.jsonl")
            .route(&["hook", "events"])
            .to_string()
            .replace("{plugins}", "/p");
        let spec = switchyard::config::load_str(&text, std::path::Path::new("/tmp/router.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!((spec.sources.len(), spec.plugins.len(), spec.sinks.len()), (2, 1, 2));
        assert_eq!(spec.server.dedup_window_secs, 0);
    }
}
