//! The reconcile queue of each kind, as an SRE sees it: how many objects are
//! waiting for a reconcile, and how long they waited. An object joins when
//! something wakes it (a watch event that passed the change filter, a
//! ProviderConfig or Secret change, its drift check) and leaves when its
//! reconcile starts; a requeue timer it set itself (polling, backoff) is
//! not waiting in the queue until something wakes it.
//!
//! Only the objects waiting are held (a hash of their namespace and name and
//! when they joined), and the map gives its memory back once the queue has
//! drained, so a burst of thousands of new objects costs nothing after.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// A drained map larger than this is shrunk.
const SHRINK_ABOVE: usize = 1024;

/// `coffer_reconcile_queue_depth{kind}` and
/// `coffer_reconcile_queue_wait_seconds{kind}`.
#[derive(Clone, Debug)]
pub struct QueueMetrics {
    depth: Family<KindLabels, Gauge>,
    wait: Family<KindLabels, Histogram>,
}

impl Default for QueueMetrics {
    fn default() -> Self {
        Self {
            depth: Family::default(),
            // 1 ms to about 16 s: a wake is picked up at once unless every
            // reconcile slot is busy or the object is already reconciling.
            wait: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 15))
            }),
        }
    }
}

impl QueueMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "reconcile_queue_depth",
            "Objects woken for a reconcile that has not started yet, by kind",
            self.depth.clone(),
        );
        registry.register(
            "reconcile_queue_wait_seconds",
            "How long an object waited from being woken to its reconcile's start, by kind",
            self.wait.clone(),
        );
    }

    /// The queue of one kind.
    pub fn kind(&self, kind: &'static str) -> KindQueue {
        let labels = KindLabels { kind };
        KindQueue {
            waiting: Arc::new(Mutex::new(HashMap::new())),
            depth: self.depth.get_or_create(&labels).clone(),
            wait: self.wait.get_or_create(&labels).clone(),
        }
    }
}

/// One kind's waiting objects.
#[derive(Clone, Debug)]
pub struct KindQueue {
    waiting: Arc<Mutex<HashMap<u64, Instant>>>,
    depth: Gauge,
    wait: Histogram,
}

impl KindQueue {
    /// The object `namespace`/`name` was woken. Woken again before its
    /// reconcile starts, it keeps its first time, as the scheduler does.
    pub fn woken(&self, namespace: Option<&str>, name: &str) {
        let mut waiting = self.lock();
        waiting
            .entry(key(namespace, name))
            .or_insert_with(Instant::now);
        self.depth.set(waiting.len() as i64);
    }

    /// Its reconcile starts.
    pub fn started(&self, namespace: Option<&str>, name: &str) {
        let mut waiting = self.lock();
        if let Some(since) = waiting.remove(&key(namespace, name)) {
            self.wait.observe(since.elapsed().as_secs_f64());
        }
        self.settle(&mut waiting);
    }

    /// It is gone: a wake for it never becomes a reconcile.
    pub fn forget(&self, namespace: Option<&str>, name: &str) {
        let mut waiting = self.lock();
        waiting.remove(&key(namespace, name));
        self.settle(&mut waiting);
    }

    fn settle(&self, waiting: &mut HashMap<u64, Instant>) {
        self.depth.set(waiting.len() as i64);
        if waiting.is_empty() && waiting.capacity() > SHRINK_ABOVE {
            waiting.shrink_to_fit();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn key(namespace: Option<&str>, name: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (namespace, name).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn a_woken_object_is_queued_until_its_reconcile_starts() {
        let metrics = QueueMetrics::default();
        let queue = metrics.kind("BackupVault");
        queue.woken(Some("a"), "v1");
        queue.woken(Some("a"), "v1");
        queue.woken(Some("a"), "v2");
        assert_eq!(queue.depth.get(), 2);
        queue.started(Some("a"), "v1");
        assert_eq!(queue.depth.get(), 1);
        // A reconcile started by its own requeue timer waited in no queue.
        queue.started(Some("a"), "v3");
        queue.forget(Some("a"), "v2");
        assert_eq!(queue.depth.get(), 0);
        let mut registry = Registry::with_prefix("coffer");
        metrics.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        assert!(
            text.contains(r#"coffer_reconcile_queue_wait_seconds_count{kind="BackupVault"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"coffer_reconcile_queue_depth{kind="BackupVault"} 0"#));
    }

    #[test]
    fn a_drained_queue_gives_its_memory_back() {
        let queue = QueueMetrics::default().kind("Agency");
        for i in 0..5000 {
            queue.woken(None, &format!("a{i}"));
        }
        for i in 0..5000 {
            queue.started(None, &format!("a{i}"));
        }
        assert!(queue.lock().capacity() <= SHRINK_ABOVE);
    }
}
