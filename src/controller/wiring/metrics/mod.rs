//! Reconcile metrics by kind, and the small HTTP server that exposes them with
//! the liveness and readiness probes. Labels are bounded (kind, result,
//! reason label of an error, action): never an object's name.

pub mod heap;
pub mod objects;
pub mod process;
pub mod queue;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::registry::Registry;

use super::leader::LeaderMetric;
use crate::controller::engine::metrics::ReconcileMetrics;
use crate::provider::budget::BudgetMetrics;
use objects::{ObjectStates, TimeToReady};
use process::{ProcessCollector, register_build_info};
use queue::QueueMetrics;

/// The controllers' own metrics. Provider call metrics live with the provider clients.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reconciles and provider changes, which the engine counts.
    pub reconciles: Arc<ReconcileMetrics>,
    /// Calls and waits of each ProviderConfig's rate budget.
    pub budgets: BudgetMetrics,
    /// Objects by kind and state, counted from the stores at scrape time.
    pub objects: ObjectStates,
    pub time_to_ready: TimeToReady,
    pub queue: QueueMetrics,
    pub leader: LeaderMetric,
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
        self.reconciles.register(registry);
        self.budgets.register(registry);
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
        metrics.reconciles.succeeded("BackupVault");
        metrics.reconciles.failed("BackupVault", "throttled");
        drop(metrics.reconciles.start("BackupVault"));
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
        metrics.reconciles.succeeded("ProviderConfig");
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
