//! CPU budgets that count the guest's own CPU time.
//!
//! The epoch ticker only says *when* to look (every tick while a guest runs); what is charged
//! is the CPU time of the thread while it polls this store's future, read from
//! `CLOCK_THREAD_CPUTIME_ID` when a poll starts and ends. Counting ticks instead charged a guest
//! for time it spent descheduled while other guests (or the kernel) had the core, so a batch
//! that passed alone failed under concurrent senders. Host work done inside the call (lowering
//! the request into guest memory, host imports, lifting the result) is charged too: it is
//! work the call causes, and it grows with the input like the guest's own.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The CPU time one store has used in the current call.
#[derive(Debug, Default)]
pub(crate) struct CpuMeter {
    /// Nanoseconds charged by completed polls since the last [`CpuMeter::reset`].
    spent_ns: AtomicU64,
    /// The thread's CPU clock when the running poll began.
    resumed_at_ns: AtomicU64,
    /// A poll is in progress (the epoch callback runs inside it, on the same thread).
    running: AtomicBool,
    /// A call was started and has not completed: its future was dropped mid-guest, so the
    /// guest stopped halfway and its instance must not serve anything else.
    unfinished: AtomicBool,
}

impl CpuMeter {
    /// Starts a new call's account.
    pub(crate) fn reset(&self) {
        self.spent_ns.store(0, Ordering::Relaxed);
    }

    /// Whether a call metered here was abandoned before it completed.
    pub(crate) fn unfinished(&self) -> bool {
        self.unfinished.load(Ordering::Relaxed)
    }

    /// CPU time charged so far, including the running poll's (call from the polling thread).
    pub(crate) fn spent_ns(&self) -> u64 {
        let done = self.spent_ns.load(Ordering::Relaxed);
        if self.running.load(Ordering::Relaxed) {
            done + thread_cpu_ns().saturating_sub(self.resumed_at_ns.load(Ordering::Relaxed))
        } else {
            done
        }
    }

    fn resume(&self) {
        self.resumed_at_ns.store(thread_cpu_ns(), Ordering::Relaxed);
        self.running.store(true, Ordering::Relaxed);
    }

    fn pause(&self) {
        let used = thread_cpu_ns().saturating_sub(self.resumed_at_ns.load(Ordering::Relaxed));
        self.running.store(false, Ordering::Relaxed);
        self.spent_ns.fetch_add(used, Ordering::Relaxed);
    }
}

/// Runs `call`, charging the CPU time of every poll to `meter`. A poll never migrates between
/// threads, so reading the thread clock at its two ends is exact. Until `call` completes the
/// meter says it is [`unfinished`](CpuMeter::unfinished).
pub(crate) async fn metered<F: Future>(meter: &CpuMeter, call: F) -> F::Output {
    let mut call = std::pin::pin!(call);
    meter.unfinished.store(true, Ordering::Relaxed);
    let out = std::future::poll_fn(|cx| {
        meter.resume();
        let out = call.as_mut().poll(cx);
        meter.pause();
        out
    })
    .await;
    meter.unfinished.store(false, Ordering::Relaxed);
    out
}

/// This thread's CPU time in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    (t.tv_sec as u64).saturating_mul(1_000_000_000) + t.tv_nsec as u64
}

/// A call's budget: `base_ms` plus `per_mib_ms` for every MiB of input (prorated), so the
/// largest body a source accepts gets time in proportion to its size.
pub(crate) fn budget_ms(base_ms: u64, per_mib_ms: u64, input_bytes: usize) -> u64 {
    let scaled = (per_mib_ms as u128 * input_bytes as u128).div_ceil(1 << 20);
    base_ms.saturating_add(scaled.min(u64::MAX as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_grows_with_the_input() {
        assert_eq!(budget_ms(100, 250, 0), 100);
        assert_eq!(budget_ms(100, 250, 1 << 20), 350);
        assert_eq!(budget_ms(100, 250, 8 << 20), 2100);
        assert_eq!(budget_ms(100, 0, 8 << 20), 100);
        // Prorated and rounded up: half a MiB is half the per-MiB time.
        assert_eq!(budget_ms(100, 250, 1 << 19), 225);
    }

    #[tokio::test]
    async fn a_busy_poll_is_charged_and_a_sleep_is_not() {
        let meter = CpuMeter::default();
        // Spin until this thread has used 30 ms of CPU (however long that takes on a busy
        // machine): all of it must be charged.
        metered(&meter, async {
            let start = thread_cpu_ns();
            let mut x = 0u64;
            while thread_cpu_ns() - start < 30_000_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        })
        .await;
        let busy = meter.spent_ns();
        assert!(busy >= 30_000_000, "30 ms of CPU charged as {busy} ns");
        metered(&meter, tokio::time::sleep(std::time::Duration::from_millis(50))).await;
        let slept = meter.spent_ns() - busy;
        assert!(slept < 20_000_000, "a 50 ms sleep charged {slept} ns");
    }

    #[tokio::test]
    async fn an_abandoned_call_is_unfinished_and_a_completed_one_is_not() {
        let meter = CpuMeter::default();
        metered(&meter, async {}).await;
        assert!(!meter.unfinished());
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            metered(&meter, std::future::pending::<()>()),
        )
        .await;
        assert!(abandoned.is_err());
        assert!(meter.unfinished(), "a call dropped mid-way must be remembered");
    }
}
