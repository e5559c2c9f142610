//! The performance targets of the plugins-at-native-speed work (BENCHMARKS.md, issue 27),
//! judged on what one run of the external benchmark measured: it prints this table at the
//! end, each target with its number, met or missed, or "not run" when its part was left out.

/// What the parts of one run measured, as far as they ran.
#[derive(Debug, Default)]
pub struct Measured {
    /// Acked events/s to the file sink, by batch size (1, 10, 100).
    pub file: [Option<f64>; 3],
    /// Requests/s to the file sink at batch 1.
    pub file_batch1_requests: Option<f64>,
    /// Events/s delivered per event to the webhook receiver at batch 10.
    pub webhook_batch10_delivered: Option<f64>,
    /// WASM pipeline events/s over the native pipeline's, by batch size.
    pub ratio: [Option<f64>; 3],
    /// µs per event of the FindFace normalize stage in WASM (warm instance) at batch 100:
    /// the guest's mapping plus the host lowering the request and lifting the events.
    pub stage_warm_us: Option<f64>,
    /// p99 in ms of the open loop (batch 10 at 100 requests/s).
    pub open_p99_ms: Option<f64>,
    /// The highest peak RSS of the closed-loop runs, in MB.
    pub peak_rss_mb: Option<f64>,
}

impl Measured {
    /// Keeps the higher peak RSS.
    pub fn rss(&mut self, kb: u64) {
        let mb = kb as f64 / 1024.0;
        self.peak_rss_mb = Some(self.peak_rss_mb.map_or(mb, |m| m.max(mb)));
    }

    /// The targets table, as markdown.
    pub fn table(&self) -> String {
        // (target, measured, goal, decimals, unit)
        let mut rows = vec![(
            "batch 100 → file sink ≥ 30 000 events/s".to_string(),
            self.file[2],
            Goal::AtLeast(30_000.0),
            0,
            " events/s",
        )];
        for (batch, ratio) in [1, 10, 100].into_iter().zip(self.ratio) {
            rows.push((
                format!("WASM pipeline ≥ 0.8× native, batch {batch}"),
                ratio,
                Goal::AtLeast(0.8),
                2,
                "×",
            ));
        }
        rows.extend([
            (
                "FindFace normalizer in the guest ≤ 10 µs/event (stage, warm, batch 100; lifting included)".to_string(),
                self.stage_warm_us,
                Goal::AtMost(10.0),
                1,
                " µs/event",
            ),
            (
                "batch 1 → file sink ≥ 8 000 requests/s".to_string(),
                self.file_batch1_requests,
                Goal::AtLeast(8_000.0),
                0,
                " requests/s",
            ),
            (
                "batch 10 → outbox → webhook per event ≥ 15 000 delivered events/s".to_string(),
                self.webhook_batch10_delivered,
                Goal::AtLeast(15_000.0),
                0,
                " events/s",
            ),
            (
                "p99 ≤ 5 ms at 100 requests/s × 10 events".to_string(),
                self.open_p99_ms,
                Goal::AtMost(5.0),
                2,
                " ms",
            ),
            (
                "peak RSS < 100 MB".to_string(),
                self.peak_rss_mb,
                Goal::Below(100.0),
                0,
                " MB",
            ),
        ]);
        let mut out = String::from("| target (one router core) | measured | |\n|---|---|---|\n");
        for (target, measured, goal, decimals, unit) in rows {
            let got = measured.map(|v| format!("{v:.decimals$}{unit}"));
            let verdict = match measured.map(|v| goal.met_by(v)) {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not run",
            };
            out.push_str(&format!(
                "| {target} | {} | {verdict} |\n",
                got.unwrap_or_else(|| "—".into())
            ));
        }
        out
    }
}

/// What a target asks of its number.
#[derive(Debug, Clone, Copy)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
    Below(f64),
}

impl Goal {
    fn met_by(self, v: f64) -> bool {
        match self {
            Goal::AtLeast(want) => v >= want,
            Goal::AtMost(want) => v <= want,
            Goal::Below(want) => v < want,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_is_judged_on_its_number() {
        let mut m = Measured {
            file: [None, None, Some(31_000.0)],
            ratio: [Some(0.9), Some(0.7), None],
            open_p99_ms: Some(6.0),
            ..Measured::default()
        };
        m.rss(90 * 1024);
        m.rss(50 * 1024);
        let table = m.table();
        assert!(
            table.contains("| batch 100 → file sink ≥ 30 000 events/s | 31000 events/s | met |"),
            "{table}"
        );
        assert!(table.contains("batch 1 | 0.90× | met"), "{table}");
        assert!(table.contains("batch 10 | 0.70× | **missed**"), "{table}");
        assert!(table.contains("batch 100 | — | not run"), "{table}");
        assert!(table.contains("| 6.00 ms | **missed**"), "{table}");
        assert!(table.contains("| peak RSS < 100 MB | 90 MB | met |"), "{table}");
    }
}
