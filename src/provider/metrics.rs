//! Prometheus metrics for provider calls: one counter and one duration
//! histogram, shared by every provider client, so an operator can see how
//! often each cloud API is called, how it answers and how long it takes.
//!
//! Labels are a small, fixed set (provider, service, operation, result);
//! object names and ids never become labels, so the series count stays
//! bounded however many objects the operator manages.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::ProviderError;

/// The result label of a call that succeeded.
pub const RESULT_OK: &str = "ok";

/// Which HTTP call this was. Every field is a compile-time constant, which is
/// what keeps the label set bounded.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct CallKind {
    /// The cloud, e.g. `huawei`.
    pub provider: &'static str,
    /// The cloud service, e.g. `cbr` or `iam`.
    pub service: &'static str,
    /// The API operation, e.g. `get_vault` or `create_token`.
    pub operation: &'static str,
}

/// The labels of both metric families.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    provider: &'static str,
    service: &'static str,
    operation: &'static str,
    /// `ok` or one of [`ProviderError::metric_label`].
    result: &'static str,
}

/// Metric families for provider HTTP calls. Cheap to share behind an `Arc`;
/// the families are themselves reference-counted, so registering clones
/// handles, not data.
#[derive(Clone, Debug)]
pub struct ProviderMetrics {
    calls: Family<CallLabels, Counter>,
    durations: Family<CallLabels, Histogram, fn() -> Histogram>,
}

/// 25 ms to about 25 s, which covers a fast read up to the client timeout.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.025, 2.0, 11))
}

impl Default for ProviderMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
        }
    }
}

impl ProviderMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the families to `registry`. In a registry with the prefix
    /// `coffer` they are exported as `coffer_provider_requests_total` and
    /// `coffer_provider_request_duration_seconds`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "provider_requests",
            "HTTP calls to cloud provider APIs, by result",
            self.calls.clone(),
        );
        registry.register_with_unit(
            "provider_request_duration",
            "Time taken by HTTP calls to cloud provider APIs",
            Unit::Seconds,
            self.durations.clone(),
        );
    }

    /// Counts one finished HTTP call and records how long it took.
    pub fn observe(&self, call: CallKind, result: Result<(), &ProviderError>, elapsed: Duration) {
        let labels = CallLabels {
            provider: call.provider,
            service: call.service,
            operation: call.operation,
            result: match result {
                Ok(()) => RESULT_OK,
                Err(e) => e.metric_label(),
            },
        };
        self.calls.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// How many calls of this kind ended with `result` (for tests and
    /// diagnostics).
    pub fn count(&self, call: CallKind, result: &'static str) -> u64 {
        let labels = CallLabels {
            provider: call.provider,
            service: call.service,
            operation: call.operation,
            result,
        };
        self.calls.get(&labels).map(|c| c.get()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    const GET_VAULT: CallKind = CallKind {
        provider: "huawei",
        service: "cbr",
        operation: "get_vault",
    };

    #[test]
    fn observe_counts_success_and_failure_separately() {
        let metrics = ProviderMetrics::new();
        metrics.observe(GET_VAULT, Ok(()), Duration::from_millis(40));
        let err = ProviderError::Transient {
            message: "timeout".into(),
        };
        metrics.observe(GET_VAULT, Err(&err), Duration::from_secs(30));
        metrics.observe(GET_VAULT, Err(&err), Duration::from_secs(30));
        assert_eq!(metrics.count(GET_VAULT, RESULT_OK), 1);
        assert_eq!(metrics.count(GET_VAULT, "transient"), 2);
    }

    #[test]
    fn registered_families_export_bounded_labels() {
        let metrics = ProviderMetrics::new();
        let mut registry = Registry::with_prefix("coffer");
        metrics.register(&mut registry);
        metrics.observe(GET_VAULT, Ok(()), Duration::from_millis(40));
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        assert!(text.contains(
            r#"coffer_provider_requests_total{provider="huawei",service="cbr",operation="get_vault",result="ok"} 1"#
        ));
        assert!(text.contains("# TYPE coffer_provider_request_duration_seconds histogram"));
    }
}
