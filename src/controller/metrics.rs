//! Reconcile metrics by kind, and the small HTTP server that exposes them with
//! the liveness and readiness probes. Labels are bounded (kind, result,
//! reason label of an error, action): never an object's name.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::leader::LeaderMetric;
use super::object_metrics::{ObjectStates, TimeToReady};
use super::process_metrics::{ProcessCollector, register_build_info};
use super::queue_metrics::QueueMetrics;
use crate::provider::budget::BudgetMetrics;

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

/// The controllers' own metrics. Provider call metrics live with the provider clients.
#[derive(Debug)]
pub struct Metrics {
    reconciles: Family<ResultLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    actions: Family<ActionLabels, Counter>,
    /// Calls and waits of each ProviderConfig's rate budget.
    pub budgets: BudgetMetrics,
    /// Objects by kind and state, counted from the stores at scrape time.
    pub objects: ObjectStates,
    pub time_to_ready: TimeToReady,
    pub queue: QueueMetrics,
    pub leader: LeaderMetric,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            reconciles: Family::default(),
            errors: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.005, 2.0, 14))
            }),
            actions: Family::default(),
            budgets: BudgetMetrics::default(),
            objects: ObjectStates::default(),
            time_to_ready: TimeToReady::default(),
            queue: QueueMetrics::default(),
            leader: LeaderMetric::default(),
        }
    }
}

impl Metrics {
    /// Adds the metrics to `registry`: the process's own as `process_*`,
    /// the rest under the `coffer_` prefix.
    pub fn register(&self, registry: &mut Registry) {
        ProcessCollector::register(registry);
        let registry = registry.sub_registry_with_prefix("coffer");
        register_build_info(registry);
        registry.register_collector(Box::new(self.objects.clone()));
        self.time_to_ready.register(registry);
        self.queue.register(registry);
        self.leader.register(registry);
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
        self.budgets.register(registry);
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
    metrics: &'a Metrics,
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

/// Whether this process is doing its job: set once the caches are filled (or
/// while a standby replica waits for the lease).
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct ServerState {
    registry: Arc<Registry>,
    readiness: Readiness,
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the task
/// is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Registry,
    readiness: Readiness,
) -> std::io::Result<()> {
    let state = ServerState {
        registry: Arc::new(registry),
        readiness,
    };
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving metrics and probes");
    }
    axum::serve(listener, app).await
}

async fn metrics(State(state): State<ServerState>) -> impl IntoResponse {
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &state.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        ),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            "could not encode metrics".to_string(),
        ),
    }
}

async fn readyz(State(state): State<ServerState>) -> impl IntoResponse {
    if state.readiness.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_exposed_with_bounded_labels() {
        let metrics = Metrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        metrics.succeeded("BackupVault");
        metrics.failed("BackupVault", "throttled");
        drop(metrics.start("BackupVault"));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
        assert!(text.contains(r#"coffer_reconciles_total{kind="BackupVault",result="success"} 1"#));
        assert!(
            text.contains(
                r#"coffer_reconcile_errors_total{kind="BackupVault",reason="throttled"} 1"#
            )
        );
        assert!(text.contains("coffer_reconcile_duration_seconds_count{kind=\"BackupVault\"} 1"));
    }

    #[tokio::test]
    async fn probes_and_metrics_are_served() {
        let metrics = Metrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        metrics.succeeded("ProviderConfig");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let readiness = Readiness::default();
        let server = tokio::spawn(serve(listener, registry, readiness.clone()));
        let get = |path: &str| {
            let url = format!("{base}{path}");
            async move {
                let response = reqwest::get(url).await.expect("request");
                (
                    response.status().as_u16(),
                    response.text().await.expect("body"),
                )
            }
        };
        assert_eq!(get("/healthz").await.0, 200);
        assert_eq!(get("/readyz").await.0, 503);
        readiness.set(true);
        assert_eq!(get("/readyz").await.0, 200);
        let (status, body) = get("/metrics").await;
        assert_eq!(status, 200);
        assert!(
            body.contains(r#"coffer_reconciles_total{kind="ProviderConfig",result="success"} 1"#),
            "{body}"
        );
        server.abort();
    }
}
