//! Driving wrk: its POST script, and reading its report.

#[derive(Debug, Default)]
pub(crate) struct Wrk {
    pub(crate) requests: f64,
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) non_2xx: u64,
}

/// The numbers of a `wrk --latency` report.
pub(crate) fn parse_wrk(report: &str) -> Wrk {
    let mut wrk = Wrk::default();
    for line in report.lines().map(str::trim) {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some("Requests/sec:"), Some(v)) => wrk.requests_per_sec = v.parse().unwrap_or(0.0),
            (Some("50%"), Some(v)) => wrk.p50_ms = millis(v),
            (Some("99%"), Some(v)) => wrk.p99_ms = millis(v),
            (Some(n), Some("requests")) => wrk.requests = n.parse().unwrap_or(0.0),
            _ => {}
        }
        if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            wrk.non_2xx = n.trim().parse().unwrap_or(0);
        }
    }
    assert!(wrk.requests_per_sec > 0.0, "wrk reported nothing:\n{report}");
    wrk
}

/// `1.23ms`, `456.78us`, `1.02s` → milliseconds.
fn millis(v: &str) -> f64 {
    let (number, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    number.parse::<f64>().unwrap_or(0.0) * scale
}

/// Writes `<scratch>/<name>.json` (`body`) and the wrk script that POSTs it as JSON; returns
/// the script's path.
pub(crate) fn post_script(scratch: &std::path::Path, name: &str, body: &[u8]) -> std::path::PathBuf {
    let body_file = scratch.join(format!("{name}.json"));
    std::fs::write(&body_file, body).expect("body");
    let lua = scratch.join(format!("{name}.lua"));
    std::fs::write(
        &lua,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
             local f = io.open(\"{}\", \"rb\"); wrk.body = f:read(\"*a\"); f:close()\n",
            body_file.display()
        ),
    )
    .expect("lua");
    lua
}
