//! Realistic load: FindFace batches built from the recorded sample, for tests and benchmarks.

use crate::samples_dir;

/// One FindFace Security 4.x event (the recorded `face matched` sample, ≈3.2 KB).
pub fn findface_event() -> serde_json::Value {
    let text = std::fs::read(samples_dir().join("findface-security4-face-matched.json")).expect("FindFace sample");
    match serde_json::from_slice(&text).expect("sample is JSON") {
        serde_json::Value::Array(mut items) => items.swap_remove(0),
        item => item,
    }
}

/// A FindFace webhook body of `n` events, each with its own event id (so dedup keeps them all).
pub fn findface_batch(n: usize) -> Vec<u8> {
    let template = findface_event();
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut item = template.clone();
            item["id"] = serde_json::Value::String(format!("{:020}", 7_000_000_000_000_000_000u64 + i as u64));
            item
        })
        .collect();
    serde_json::to_vec(&items).expect("encode batch")
}

/// The largest FindFace batch whose body fits in `max_bytes`, and its event count.
pub fn findface_batch_within(max_bytes: usize) -> (Vec<u8>, usize) {
    let per_event = findface_batch(1).len();
    let mut n = max_bytes / per_event;
    loop {
        let body = findface_batch(n);
        if body.len() <= max_bytes {
            return (body, n);
        }
        n -= n / 100 + 1;
    }
}
