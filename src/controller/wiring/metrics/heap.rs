//! The operator's heap: jemalloc, set up for a small resident set, and how
//! much of it is in use and how much is held, as metrics.
//!
//! glibc's malloc puts an 8-byte header on every block and rounds it to 16
//! bytes with 32 at least; a cached object is some fifty small strings and
//! vectors, so at 10,000 objects the headers and rounding alone were
//! megabytes. It also gives threads arenas of their own and keeps what is
//! freed. jemalloc keeps small blocks in size classes without headers
//! (8, 16, 32, 48 bytes…), and with one arena and a background thread it
//! returns pages unused for a second. On the same bench (10,000 objects),
//! the converged RSS fell from 41.7 to 39.0 MiB. The container image's musl
//! build uses it too, so the bench measures the allocator that ships.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The allocator of coffer's binaries. Declared here and named in each
/// binary's `#[global_allocator]`, beside [`CONFIG`].
pub use tikv_jemallocator::Jemalloc as Allocator;

/// jemalloc's options, read at its first allocation: one arena and no
/// per-thread caches (coffer has few threads and waits on the network, not
/// on the allocator: without the caches the bench converged at 38.7 MiB
/// instead of 39.4, no slower), a background thread that purges, and pages
/// given back after a second unused instead of ten.
pub const CONFIG: &[u8] =
    b"narenas:1,tcache:false,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// How often the heap is measured.
const EVERY: Duration = Duration::from_secs(10);

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
            "Bytes of the operator's heap in use by live objects and held resident by the allocator beyond them",
            self.bytes.clone(),
        );
    }

    /// Measures the heap until the process ends.
    pub fn run(self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            loop {
                tick.tick().await;
                if let Some(heap) = measure() {
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

/// jemalloc's own account; `None` when it cannot give one (statistics are
/// only refreshed when the epoch advances).
fn measure() -> Option<Heap> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    let in_use = stats::allocated::read().ok()?;
    let resident = stats::resident::read().ok()?;
    Some(Heap {
        in_use,
        free: resident.saturating_sub(in_use),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heap_is_measured() {
        let live: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 64 << 10]).collect();
        let heap = measure().expect("jemalloc reports its heap");
        assert!(heap.in_use >= 4 << 20, "{heap:?}");
        assert!(live.iter().all(|v| v[0] == 1));
    }
}
