//! Test fixtures: one managed object as the API server would hold it (the
//! engine needs some kind to run on; a BackupVault without a provider block
//! will do, since the engine never reads a kind's spec), and the context a
//! reconcile gets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::runtime::controller::Action;

use super::context::{Context, Timing};
use super::metrics::ReconcileMetrics;
use crate::api::{BackupVault, BackupVaultSpec, ProviderConfigRef};

pub const UID: &str = "6f1d2c3b-0000-4000-8000-000000000001";

/// A BackupVault in namespace `team-a`, at generation 1.
pub fn object() -> BackupVault {
    let mut bv = BackupVault::new(
        "team-a",
        BackupVaultSpec {
            provider_config_ref: ProviderConfigRef::namespaced("cloud"),
            deletion_policy: Default::default(),
            management_policy: Default::default(),
            huawei_cloud: None,
            rackspace: None,
            commvault: None,
        },
    );
    bv.metadata.namespace = Some("team-a".into());
    bv.metadata.uid = Some(UID.into());
    bv.metadata.generation = Some(1);
    bv
}

/// The timing a test context runs with: every interval far from the others,
/// so that a requeue tells which one it came from.
pub fn timing() -> Timing {
    Timing {
        resync_interval: Duration::from_secs(600),
        poll_interval: Duration::from_secs(30),
        settle_time: Duration::from_secs(120),
        failure_grace: Duration::from_secs(60),
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(300),
        reconcile_deadline: Duration::from_secs(60),
    }
}

/// What a reconcile gets, around an API server that refuses every
/// connection: the engine's bookkeeping never calls it. Must be made
/// within a runtime (the Event writers start at once).
pub fn context(timing: Timing) -> Context<()> {
    let config = kube::Config::new("http://127.0.0.1:9".parse().expect("a url"));
    let client = kube::Client::try_from(config).expect("a client");
    Context::new(
        client,
        (),
        Arc::new(ReconcileMetrics::default()),
        timing,
        None,
    )
}

/// How long `action` waits before looking again; `None` for a wait for a
/// change. kube-runtime's `Action` keeps its delay to itself but prints it.
pub fn requeue_after(action: &Action) -> Option<Duration> {
    let text = format!("{action:?}");
    let delay = text
        .strip_prefix("Action { requeue_after: Some(")?
        .strip_suffix(") }")?;
    let (number, unit) = match delay.strip_suffix("ms") {
        Some(millis) => (millis, 1e-3),
        None => (delay.strip_suffix('s').expect("a delay in seconds"), 1.0),
    };
    let number: f64 = number.parse().expect("a number");
    Some(Duration::from_secs_f64(number * unit))
}

/// What a reconcile gets, around a fake API server that takes every write
/// to `obj`'s status (answering `obj` at resourceVersion `2`) and every
/// Event, refuses all else, and writes down `METHOD path` of each request.
pub fn answering_context(obj: &BackupVault) -> (Context<()>, Arc<Mutex<Vec<String>>>) {
    let mut answer = obj.clone();
    answer.metadata.resource_version = Some("2".into());
    let answer = bytes::Bytes::from(serde_json::to_vec(&answer).expect("json"));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = sent.clone();
    let server = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let (answer, seen) = (answer.clone(), seen.clone());
        async move {
            let (method, path) = (
                request.method().to_string(),
                request.uri().path().to_string(),
            );
            seen.lock().expect("lock").push(format!("{method} {path}"));
            let (status, body) = match method.as_str() {
                "PATCH" if path.ends_with("/status") => (200, answer),
                "POST" if path.ends_with("/events") => {
                    (201, request.into_body().collect_bytes().await.expect("body"))
                }
                _ => (
                    404,
                    bytes::Bytes::from_static(
                        br#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#,
                    ),
                ),
            };
            let mut response = http::Response::new(kube::client::Body::from(body));
            *response.status_mut() = http::StatusCode::from_u16(status).expect("status");
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let client = kube::Client::new(server, "default");
    let ctx = Context::new(
        client,
        (),
        Arc::new(ReconcileMetrics::default()),
        timing(),
        None,
    );
    (ctx, sent)
}
