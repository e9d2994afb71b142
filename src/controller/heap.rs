//! The operator's heap: how much is in use and how much is held free, as
//! metrics, and the two allocator settings that keep the second small.
//!
//! glibc's malloc gives each thread that contends for the heap an arena of
//! its own (up to eight per core) and keeps what is freed for reuse rather
//! than giving it back. After a burst (10,000 objects arriving, their
//! reconciles, their JSON) the freed memory stays resident although the
//! live heap is back to what the caches hold. Two arenas are enough for
//! coffer's few threads, and a periodic `malloc_trim` returns free pages to
//! the system. On other allocators (musl's, in the container image) both
//! are unnecessary and the metrics are not exported.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// How often the heap is measured, and trimmed when it holds much free.
const EVERY: Duration = Duration::from_secs(10);
/// Free bytes worth giving back: below this a trim is not worth its walk.
const TRIM_ABOVE: usize = 4 << 20;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    /// `in_use` or `free`.
    state: &'static str,
}

/// `coffer_heap_bytes{state}`.
#[derive(Clone, Default)]
pub struct HeapMetrics {
    bytes: Family<StateLabels, Gauge>,
}

impl HeapMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "heap_bytes",
            "Bytes of the operator's heap in use by live objects and held free by the allocator",
            self.bytes.clone(),
        );
    }

    /// Measures (and trims) the heap until the process ends.
    pub fn run(self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            loop {
                tick.tick().await;
                if let Some(heap) = measure() {
                    if heap.free > TRIM_ABOVE {
                        trim();
                    }
                    let heap = measure().unwrap_or(heap);
                    self.set("in_use", heap.in_use);
                    self.set("free", heap.free);
                }
            }
        });
    }

    fn set(&self, state: &'static str, bytes: usize) {
        self.bytes
            .get_or_create(&StateLabels { state })
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}

#[derive(Clone, Copy, Debug)]
struct Heap {
    in_use: usize,
    free: usize,
}

/// Limits the allocator to two arenas; call before threads start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    // SAFETY: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn measure() -> Option<Heap> {
    // SAFETY: mallinfo2 reads the allocator's statistics.
    let info = unsafe { libc::mallinfo2() };
    Some(Heap {
        in_use: info.uordblks + info.hblkhd,
        free: info.fordblks,
    })
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn measure() -> Option<Heap> {
    None
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn the_heap_is_measured_and_a_trim_keeps_what_is_live() {
        let live: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 64 << 10]).collect();
        let before = measure().expect("glibc reports its heap");
        assert!(before.in_use >= 4 << 20, "{before:?}");
        trim();
        let after = measure().expect("glibc reports its heap");
        assert!(after.in_use >= 4 << 20, "{after:?}");
        assert!(live.iter().all(|v| v[0] == 1));
    }
}
