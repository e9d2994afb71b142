//! The engine's own metrics: reconciles by kind and result, their errors
//! by reason, their duration, and the changes made to providers. Labels are
//! bounded (kind, result, an error's metric label, action): never an
//! object's name. The process registers them beside its other metrics.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    kind: &'static str,
    action: &'static str,
}

/// Reconciles and provider changes, by kind.
#[derive(Debug)]
pub struct ReconcileMetrics {
    reconciles: Family<ResultLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    actions: Family<ActionLabels, Counter>,
}

impl Default for ReconcileMetrics {
    fn default() -> Self {
        Self {
            reconciles: Family::default(),
            errors: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.005, 2.0, 14))
            }),
            actions: Family::default(),
        }
    }
}

impl ReconcileMetrics {
    /// Adds the metrics to `registry` (the process gives its `coffer_` one).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "reconciles",
            "Reconciles finished, by kind and result",
            self.reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciles, by kind and error reason",
            self.errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "How long a reconcile took, by kind",
            self.duration.clone(),
        );
        registry.register(
            "actions",
            "Changes made to providers, by kind and action (create, update, drift_correct, delete, adopt, recreate)",
            self.actions.clone(),
        );
    }

    /// Starts timing one reconcile of `kind`.
    pub fn start(&self, kind: &'static str) -> ReconcileTimer<'_> {
        ReconcileTimer {
            metrics: self,
            kind,
            started: Instant::now(),
        }
    }

    /// Counts a successful reconcile.
    pub fn succeeded(&self, kind: &'static str) {
        self.reconciles
            .get_or_create(&ResultLabels {
                kind,
                result: "success",
            })
            .inc();
    }

    /// Counts a failed reconcile and why (`reason` from a bounded set).
    pub fn failed(&self, kind: &'static str, reason: &'static str) {
        self.reconciles
            .get_or_create(&ResultLabels {
                kind,
                result: "error",
            })
            .inc();
        self.errors
            .get_or_create(&ErrorLabels { kind, reason })
            .inc();
    }

    /// Counts a change made to a provider.
    pub fn acted(&self, kind: &'static str, action: &'static str) {
        self.actions
            .get_or_create(&ActionLabels { kind, action })
            .inc();
    }

    /// How many reconciles of `kind` failed for `reason` (a metric label).
    pub fn error_count(&self, kind: &'static str, reason: &'static str) -> u64 {
        self.errors
            .get(&ErrorLabels { kind, reason })
            .map(|c| c.get())
            .unwrap_or(0)
    }

    /// How many reconciles of `kind` ended with `result` (`success` or `error`).
    pub fn reconcile_count(&self, kind: &'static str, result: &'static str) -> u64 {
        self.reconciles
            .get(&ResultLabels { kind, result })
            .map(|c| c.get())
            .unwrap_or(0)
    }
}

/// Observes a reconcile's duration when dropped, whatever its outcome.
pub struct ReconcileTimer<'a> {
    metrics: &'a ReconcileMetrics,
    kind: &'static str,
    started: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .duration
            .get_or_create(&KindLabels { kind: self.kind })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    const KIND: &str = "BackupVault";

    fn exported(metrics: &ReconcileMetrics) -> String {
        let mut registry = Registry::with_prefix("coffer");
        metrics.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        text
    }

    #[test]
    fn reconciles_errors_and_changes_are_exported_by_kind() {
        let metrics = ReconcileMetrics::default();
        metrics.succeeded(KIND);
        metrics.failed(KIND, "throttled");
        metrics.acted(KIND, "create");
        let text = exported(&metrics);
        for line in [
            r#"coffer_reconciles_total{kind="BackupVault",result="success"} 1"#,
            r#"coffer_reconciles_total{kind="BackupVault",result="error"} 1"#,
            r#"coffer_reconcile_errors_total{kind="BackupVault",reason="throttled"} 1"#,
            r#"coffer_actions_total{kind="BackupVault",action="create"} 1"#,
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

    #[test]
    fn a_reconcile_is_timed_when_it_ends_whatever_its_outcome() {
        let metrics = ReconcileMetrics::default();
        drop(metrics.start(KIND));
        let text = exported(&metrics);
        let count = r#"coffer_reconcile_duration_seconds_count{kind="BackupVault"} 1"#;
        assert!(text.contains(count), "{text}");
    }
}
