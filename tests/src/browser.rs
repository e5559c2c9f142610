//! The console's browser tests: Debian's Chromium driven headless by playwright-core, both
//! installed on first use by `scripts/browser-tools.sh`, running the scenarios of
//! `tests/browser/console.mjs` against a real router.

use crate::workspace;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where the driver and the browser are.
#[derive(Debug)]
pub struct Browser {
    modules: PathBuf,
    chromium: PathBuf,
}

/// Installs (once per test run) and finds the browser tools.
pub fn browser() -> &'static Browser {
    static BROWSER: OnceLock<Browser> = OnceLock::new();
    BROWSER.get_or_init(|| {
        let script = workspace().join("scripts/browser-tools.sh");
        let out = std::process::Command::new("bash")
            .arg(&script)
            .output()
            .expect("run scripts/browser-tools.sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scripts/browser-tools.sh failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines = stdout.lines();
        let (Some(modules), Some(chromium)) = (lines.next(), lines.next()) else {
            panic!("scripts/browser-tools.sh printed no paths:\n{stdout}");
        };
        Browser {
            modules: modules.into(),
            chromium: chromium.into(),
        }
    })
}

/// Where `make screenshots` wants the views saved (`SCREENSHOTS=1`): docs/screenshots.
pub fn screenshots_dir() -> Option<PathBuf> {
    std::env::var_os("SCREENSHOTS")
        .filter(|v| !v.is_empty() && v != "0")
        .map(|_| workspace().join("docs/screenshots"))
}

impl Browser {
    /// Runs scenario `name` with `env` (CONSOLE, INGEST and the scenario's own); returns its
    /// output, or panics with it when a check failed.
    pub async fn run(&self, name: &str, env: &[(&str, String)]) -> String {
        let mut command = std::process::Command::new("node");
        command
            .arg(workspace().join("tests/browser/console.mjs"))
            .arg(name)
            .env("PLAYWRIGHT_MODULES", &self.modules)
            .env("CHROMIUM", &self.chromium);
        if let Some(dir) = screenshots_dir() {
            command.env("SHOTS", dir);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        // Blocking, on the blocking pool: the router under test runs on this runtime.
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run node");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "browser scenario `{name}` failed:\n{text}");
        text
    }
}
