//! The processing budget (`[server.limits] max_processing_bytes`): memory of the requests being
//! processed at once. A request's body is only the start of what it costs: its bytes are
//! copied into the normalizer's memory, parsed there, returned as events the host lifts,
//! encoded again for the sinks. Measured on FindFace batches, that is about
//! [`COST_PER_BODY_BYTE`] times the body at its peak (BENCHMARKS.md), so twenty-eight 7 MB
//! batches at once — each within every per-request limit — took the router from 180 MB to
//! 1.7 GB.
//!
//! So before its plugins run, a request reserves its estimated cost from this budget — its
//! body × [`COST_PER_BODY_BYTE`], at least [`MIN_COST`], at most the whole budget (one
//! request always fits) — and **waits** for room when there is none, in arrival order (a
//! fair semaphore: a small push behind a waiting batch waits too, so neither can starve the
//! other): big batches take turns instead of growing the process or failing. The router's request memory is then bounded by `max_buffered_body_bytes` (bodies)
//! plus this budget, plus what the process needs anyway (SECURITY.md states the constant).
//! Doors are answered before this (their decision path is never queued behind batches); what
//! follows the answer reserves like any request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A request's peak memory while processed, in bytes per body byte (measured, with margin).
pub(crate) const COST_PER_BODY_BYTE: u64 = 16;
/// What even an empty request costs (an instance's memory, its buffers).
pub(crate) const MIN_COST: u64 = 256 << 10;
/// Permits are KiB: a 2^40-byte budget fits.
const UNIT: u64 = 1 << 10;

/// The budget, shared by all requests; resized by a reload.
#[derive(Debug)]
pub(crate) struct ProcessingBudget {
    permits: Arc<Semaphore>,
    /// The configured size, in units.
    size: std::sync::Mutex<u64>,
    in_use: Arc<AtomicU64>,
    waited: AtomicU64,
}

/// A reservation; dropping it gives the room back.
#[derive(Debug)]
pub(crate) struct Processing {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
    in_use: Arc<AtomicU64>,
}

impl Drop for Processing {
    fn drop(&mut self) {
        self.in_use.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl ProcessingBudget {
    /// A budget of `bytes`.
    pub(crate) fn new(bytes: u64) -> ProcessingBudget {
        let units = (bytes / UNIT).max(1);
        ProcessingBudget {
            permits: Arc::new(Semaphore::new(units as usize)),
            size: std::sync::Mutex::new(units),
            in_use: Arc::default(),
            waited: AtomicU64::new(0),
        }
    }

    /// Changes the size (a reload): more room at once; less as requests in progress give
    /// theirs back.
    pub(crate) fn resize(&self, bytes: u64) {
        let units = (bytes / UNIT).max(1);
        let mut size = self.size.lock().unwrap_or_else(|p| p.into_inner());
        if units > *size {
            self.permits.add_permits((units - *size) as usize);
        } else if units < *size {
            let permits = self.permits.clone();
            let less = (*size - units) as u32;
            tokio::spawn(async move {
                if let Ok(p) = permits.acquire_many_owned(less).await {
                    p.forget();
                }
            });
        }
        *size = units;
    }

    /// The estimated cost of processing a body of `body_bytes`.
    pub(crate) fn cost(&self, body_bytes: u64) -> u64 {
        let whole = *self.size.lock().unwrap_or_else(|p| p.into_inner()) * UNIT;
        body_bytes.saturating_mul(COST_PER_BODY_BYTE).max(MIN_COST).min(whole)
    }

    /// Reserves room for processing a body of `body_bytes`, waiting in line for it.
    pub(crate) async fn reserve(&self, body_bytes: u64) -> Processing {
        let bytes = self.cost(body_bytes);
        let units = bytes.div_ceil(UNIT) as u32;
        let permit = match self.permits.clone().try_acquire_many_owned(units) {
            Ok(p) => p,
            Err(_) => {
                self.waited.fetch_add(1, Ordering::Relaxed);
                // The semaphore is never closed.
                match self.permits.clone().acquire_many_owned(units).await {
                    Ok(p) => p,
                    Err(_) => unreachable!("the processing semaphore is never closed"),
                }
            }
        };
        self.in_use.fetch_add(bytes, Ordering::Relaxed);
        Processing {
            _permit: permit,
            bytes,
            in_use: self.in_use.clone(),
        }
    }

    /// The Prometheus text of the budget.
    pub(crate) fn render(&self) -> String {
        format!(
            "# HELP switchyard_processing_reserved_bytes Memory reserved by requests being processed (their estimated cost).\n# TYPE switchyard_processing_reserved_bytes gauge\nswitchyard_processing_reserved_bytes {}\n\
             # HELP switchyard_processing_waits_total Requests that waited for processing memory.\n# TYPE switchyard_processing_waits_total counter\nswitchyard_processing_waits_total {}\n",
            self.in_use.load(Ordering::Relaxed),
            self.waited.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn big_requests_take_turns_and_one_always_fits() {
        let budget = std::sync::Arc::new(ProcessingBudget::new(20 << 20));
        assert_eq!(budget.cost(0), MIN_COST);
        assert_eq!(budget.cost(1 << 20), 16 << 20);
        assert_eq!(budget.cost(100 << 20), 20 << 20, "never more than the whole budget");
        let first = budget.reserve(1 << 20).await;
        let second = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(1 << 20).await.bytes }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let small = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(1 << 10).await.bytes }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "the second batch waits for the first");
        assert!(
            !small.is_finished(),
            "and a small one behind it waits its turn (no starvation)"
        );
        drop(first);
        assert_eq!(second.await.expect("task"), 16 << 20);
        assert_eq!(small.await.expect("task"), MIN_COST);
        assert!(budget.render().contains("switchyard_processing_waits_total 2"));
        budget.resize(40 << 20);
        assert_eq!(budget.cost(100 << 20), 40 << 20);
    }
}
